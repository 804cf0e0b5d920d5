"""Deploys through REST /metadata/deployRequest, driven by CumulusCI's own RestDeploy (rest_deploy option)."""

from __future__ import annotations

import base64
import logging
from types import SimpleNamespace

import pytest
from cumulusci.salesforce_api.exceptions import MetadataComponentFailure
from cumulusci.salesforce_api.rest_deploy import RestDeploy
from mdkit import full_package, make_zip

from slotforce.localorg.server import LocalOrg


@pytest.fixture(scope="module")
def server():
    with LocalOrg() as lo:
        yield lo


def rest_deploy(server, files) -> None:
    task = SimpleNamespace(
        project_config=SimpleNamespace(project__package__api_version="62.0"),
        org_config=SimpleNamespace(instance_url=server.instance_url, access_token=server.access_token,
                                   org_type="Developer Edition", is_sandbox=False),
        logger=logging.getLogger("test.rest_deploy"))
    RestDeploy(task, base64.b64encode(make_zip(files)).decode(), purge_on_delete=False, check_only=False,
               test_level=None, run_tests=[])()


def test_cumulusci_rest_deploy_succeeds_and_reports_failures(server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    rest_deploy(server, full_package())
    assert server.org.schema.get("Booking_Action__c") is not None
    files = full_package()
    files["objects/Contact.object"] = files["objects/Contact.object"].replace("<type>Text</type>", "<type>Strng</type>")
    with pytest.raises(MetadataComponentFailure) as exc:
        rest_deploy(server, files)
    assert "ERROR in file objects/Contact.object: Invalid field type: Strng at line 7:" in str(exc.value)
