"""Deploy limits as Salesforce has them: 39 MB compressed, 400 MB uncompressed (counted while reading), 10,000 files."""

from __future__ import annotations

import io
import resource
import zipfile

import pytest
from mdkit import package_xml

from slotforce.localorg.metadata import attach
from slotforce.localorg.metadata import package as pkg
from slotforce.localorg.models import Org


@pytest.fixture
def org():
    return Org()


def _problems(org, data: bytes) -> list[str]:
    result = attach(org).deploy(data, {})
    assert result.success is False
    return [c.problem for c in result.failures]


def _bomb(size: int) -> bytes:
    """A zip whose one file inflates to `size` zero bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("package.xml", package_xml({}))
        with zf.open("objects/Big__c.object", "w", force_zip64=True) as f:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def test_a_zip_over_39_mb_compressed_is_refused_with_salesforces_message(org):
    assert any("39 MB compressed" in p for p in _problems(org, b"PK" + b"\0" * (pkg.MAX_ZIP_BYTES + 1)))


def test_a_zip_inflating_past_400_mb_is_refused_while_reading_with_memory_bounded(org):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = _bomb(pkg.MAX_UNZIPPED_BYTES + 8 * 1024 * 1024)
    assert len(data) < 2 * 1024 * 1024
    assert any("400 MB uncompressed" in p for p in _problems(org, data))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 900, f"memory grew {grown_mb:.0f} MB"


def test_too_many_files_are_refused_naming_the_limit(org, monkeypatch):
    monkeypatch.setattr(pkg, "MAX_FILES", 3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", package_xml({}))
        for i in range(3):
            zf.writestr(f"objects/O{i}__c.object", "<x/>")
    assert any("Maximum number of files" in p for p in _problems(org, buf.getvalue()))
