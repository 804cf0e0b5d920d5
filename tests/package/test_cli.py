"""`slotforce package build|validate` as a user runs them."""

from click.testing import CliRunner

from slotforce.cli import main


def test_build_then_validate(tmp_path):
    runner = CliRunner()
    out = tmp_path / "force-app"
    result = runner.invoke(main, ["package", "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Booking_Action__c" in result.output and "Slotforce_Integration" in result.output
    assert "wrote 73 files" in result.output
    result = runner.invoke(main, ["package", "validate", "--out", str(out)])
    assert result.exit_code == 0 and "73 files" in result.output


def test_bad_extension_fails_cleanly_and_writes_nothing(tmp_path):
    bad = tmp_path / "ext.yml"
    bad.write_text("objects:\n  Lead:\n    fields:\n      - {api_name: X__c, type: Picklist, label: X, "
                   "description: d, values: []}\n")
    out = tmp_path / "force-app"
    result = CliRunner().invoke(main, ["package", "build", "--out", str(out), "--extensions", str(bad)])
    assert result.exit_code == 1
    assert "objects.Lead.fields[0]: a Picklist needs at least one value" in result.output
    assert "Nothing written" in result.output and not out.exists()


def test_validate_lists_problems_with_file_and_line(tmp_path):
    out = tmp_path / "force-app"
    CliRunner().invoke(main, ["package", "build", "--out", str(out)])
    field = out / "main/default/objects/Lead/fields/Router_Name__c.field-meta.xml"
    field.write_text(field.read_text().replace("<length>75</length>", "<length>many</length>"))
    result = CliRunner().invoke(main, ["package", "validate", str(out)], terminal_width=400)
    assert result.exit_code == 1
    assert "Router_Name__c.field-meta.xml:" in result.output and "<length>" in result.output
    assert "1 problem(s)" in result.output
