"""slotforce.project.find_root: the nearest folder up from the working directory that is a project."""

import pytest

from slotforce.project import ProjectNotFound, find_root


@pytest.mark.parametrize("marker", ["cumulusci.yml", "sfdx-project.json"])
def test_the_root_is_found_from_a_folder_inside_it(tmp_path, monkeypatch, marker):
    (tmp_path / marker).write_text("")
    inside = tmp_path / "force-app" / "main"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    assert find_root() == tmp_path.resolve()
    assert find_root(inside / "default") == tmp_path.resolve()  # need not exist yet


def test_outside_a_project_the_error_says_what_to_do(tmp_path):
    with pytest.raises(ProjectNotFound, match="no folder holds cumulusci.yml or sfdx-project.json.*cd into"):
        find_root(tmp_path)
