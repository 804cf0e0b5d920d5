"""`slotforce owner` and the commands' config handling."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from slotforce.testing import write_config
from slotforce.cli import main


def test_owner_command_prints_the_owner_or_exits_3(tmp_path, org):
    config = write_config(tmp_path, org, event_types={
        "default": {"round_robin": {"book_with_owner": True, "check_record_on": "lead"}}})
    sf = org.client()
    lead = sf.Lead.create({"LastName": "Costa", "Company": "Tailspin", "Email": "rui@tailspin-toys.com",
                           "OwnerId": org.user_id})["id"]
    admin = sf.query(f"SELECT Email FROM User WHERE Id = '{org.user_id}'")["records"][0]["Email"]
    runner = CliRunner()
    found = runner.invoke(main, ["owner", "rui@tailspin-toys.com", "--event-type", "intro", "--config", str(config)])
    assert found.exit_code == 0, found.output
    assert found.output.split()[0].lower() == admin.lower() and f"lead_owner: Lead {lead}" in found.output

    none = runner.invoke(main, ["owner", "nobody@elsewhere-inc.com", "--config", str(config), "--trace"])
    assert none.exit_code == 3 and "no owner for nobody@elsewhere-inc.com: owner_not_found" in none.output


def test_commands_name_the_bad_key_of_slotforce_yml(tmp_path):
    config = tmp_path / "slotforce.yml"
    config.write_text("salesforce: {local: org}\nlinks: {file: links.yml, every_minutes: 0}\n")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert "links.every_minutes: Input should be greater than 0" in result.output


def test_sync_without_an_org_says_how_to_start_one(tmp_path):
    config = tmp_path / "slotforce.yml"
    config.write_text("salesforce: {local: org-state}\nstore: sqlite:///outbox.db\n")
    from slotforce.sources import receive
    from slotforce.store import open_store

    booking = Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json"
    with open_store("sqlite:///outbox.db", base_dir=tmp_path) as outbox:
        receive(outbox, "api", booking.read_bytes(), {}, secrets=None, verify=False)
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert "slotforce org serve --state" in result.output
