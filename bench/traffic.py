"""What the service benchmarks send: `api` bookings made from the test fixture, and a free port."""

from __future__ import annotations

import json
import socket
from pathlib import Path

BOOKING = json.loads((Path(__file__).parents[1] / "tests" / "fixtures" / "webhooks" / "api" /
                      "booking_created.json").read_text())


def api_booking(uid: str, email: str) -> bytes:
    """The fixture's booking with its own uid and attendee email, without guests."""
    doc = json.loads(json.dumps(BOOKING))
    doc["booking_uid"] = uid
    doc["attendee"] = {**doc["attendee"], "email": email}
    doc["guests"] = []
    return json.dumps(doc).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
