"""The `slotforce` command lists its parts and each part's help works."""

from click.testing import CliRunner

from slotforce.cli import COMMANDS, main


def test_help_lists_every_available_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "get scheduling data into Salesforce" in result.output


def test_every_registered_command_has_help():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, f"slotforce {name} --help failed:\n{result.output}"
        assert "Usage:" in result.output
