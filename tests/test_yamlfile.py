"""slotforce's YAML files: errors say which file and where in it."""

import pytest

from slotforce.yamlfile import YamlFileError, config_path, key_path, read_yaml


def test_a_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "slotforce.yml"
    path.write_text("store: sqlite:///x.db\nsources: [unclosed\n")
    with pytest.raises(YamlFileError) as err:
        read_yaml(path)
    assert err.value.where == "line 3, column 1" and str(err.value).startswith(f"{path}: line 3, column 1: not valid YAML")


def test_a_missing_file_says_so_without_a_position(tmp_path):
    with pytest.raises(YamlFileError, match=r"missing\.yml: not found$"):
        read_yaml(tmp_path / "missing.yml")


def test_config_path_prefers_the_option_then_the_environment(monkeypatch):
    monkeypatch.setenv("SLOTFORCE_CONFIG", "/etc/slotforce.yml")
    assert str(config_path("mine.yml")) == "mine.yml" and str(config_path()) == "/etc/slotforce.yml"
    monkeypatch.delenv("SLOTFORCE_CONFIG")
    assert str(config_path()) == "slotforce.yml"


def test_key_path_reads_like_the_file():
    assert key_path(("event_types", "demo", "write_to_record", 2, "value")) == "event_types.demo.write_to_record[2].value"
