"""What only the PostgreSQL backend has: an unreachable server named at open, refusals as OutboxUnwritable."""

from __future__ import annotations

import socket

import psycopg
import pytest

from slotforce.store import Delivery, NewChange, OutboxUnwritable, StoreError, open_store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once it is closed


def test_an_unreachable_server_is_named_with_the_reason_and_without_the_password():
    url = f"postgresql://slotforce:s3cret@127.0.0.1:{closed_port()}/outbox"
    with pytest.raises(StoreError) as refused:
        open_store(url)
    message = str(refused.value)
    assert "cannot reach the outbox postgresql://slotforce@127.0.0.1:" in message
    assert "refused" in message.lower() and "s3cret" not in message


def test_a_read_only_database_refuses_the_whole_delivery_and_says_so(postgres_url):
    outbox = open_store(postgres_url)
    outbox.enqueue(Delivery("api", b"1"), [NewChange("api:A:Created:0", "A", "Created", {}, establishes=True)])
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        admin.execute(f"ALTER DATABASE {postgres_url.rsplit('/', 1)[1]} SET default_transaction_read_only = on")
    outbox.storage.pool.check()  # drop the connections the server closed
    with pytest.raises(OutboxUnwritable) as refused:
        outbox.enqueue(Delivery("api", b"2"), [NewChange("api:B:Created:0", "B", "Created", {}, establishes=True)])
    assert refused.value.cause == "read_only"
    assert outbox.write_problem().cause == "read_only"
    assert [i.booking_uid for i in outbox.items()] == ["A"]
    outbox.close()
