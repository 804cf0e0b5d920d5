"""Shared helpers for source tests: fixture payloads as raw bytes, the way a webhook delivers them."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def body():
    return fixture_body
