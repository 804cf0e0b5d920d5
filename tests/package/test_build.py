"""build() writes all or nothing; validate() re-checks force-app on disk and points at file:line."""

from pathlib import Path

import pytest

from slotforce.package import DefinitionError, build, validate

FIELD = "main/default/objects/Booking_Action__c/fields/Source__c.field-meta.xml"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_replaces_the_tree_and_drops_stale_files(tmp_path):
    out = tmp_path / "force-app"
    report = build(out)
    assert len(report.files) == 73 and all(p.is_file() for p in report.files)
    stale = out / "main/default/objects/Old__c/Old__c.object-meta.xml"
    stale.parent.mkdir(parents=True)
    stale.write_text("<old/>")
    crashed = out / "main/.default.new-999999999-abc/objects/X.txt"  # no such pid
    crashed.parent.mkdir(parents=True)
    crashed.write_text("left by a killed build")
    build(out)
    assert not stale.exists() and not crashed.exists()
    assert validate(out) == []
    assert not [p for p in out.glob("main/.default*")], "no staging leftovers"


def test_failed_build_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "force-app"
    build(out)
    before = snapshot(out)
    bad = tmp_path / "bad.yml"
    bad.write_text("objects:\n  Lead:\n    fields:\n      - {api_name: X__c, type: Text, label: X, description: d}\n")
    with pytest.raises(DefinitionError, match=r"fields\[0\].length: Field required"):
        build(out, bad)
    assert snapshot(out) == before


def test_validate_reports_each_problem_with_file_and_line(tmp_path):
    out = tmp_path / "force-app"
    build(out)
    path = out / FIELD
    path.write_text(path.read_text().replace("<type>Text</type>", "<type>Strng</type>"))
    (out / "main/default/permissionsets/Broken.permissionset-meta.xml").write_text("<PermissionSet")
    wrong_root = out / "main/default/objects/Lead/fields/No_Show__c.field-meta.xml"
    wrong_root.write_text(wrong_root.read_text().replace("CustomField", "CustomObject"))
    problems = validate(out)
    by_file = {Path(p.file).name: p for p in problems}
    assert set(by_file) == {"Source__c.field-meta.xml", "Broken.permissionset-meta.xml", "No_Show__c.field-meta.xml"}
    strng = by_file["Source__c.field-meta.xml"]
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "Strng" in text)
    assert (strng.line, strng.element) == (line, "type") and "Strng" in strng.message
    assert "not well-formed" in by_file["Broken.permissionset-meta.xml"].message
    assert f"{strng.file}:{line}:" in str(strng)


def test_validate_on_missing_or_empty_dir(tmp_path):
    assert "does not exist" in validate(tmp_path / "nope")[0].message
    assert "no *-meta.xml" in validate(tmp_path)[0].message
