"""Scheduled and asynchronous paths of record-triggered flows, run as the org's clock passes their time."""

from __future__ import annotations

import time

import pytest
import requests
from flowkit import flow, flow_package, https_deploy, split_name

from slotforce.localorg.flows.parser import FlowDefinitionError
from slotforce.package.xsd import validate_text

AT = "<label>x</label><locationX>0</locationX><locationY>0</locationY>"


def update(name: str, field: str, value: str) -> str:
    return f"""
    <recordUpdates>
        <name>{name}</name>
        {AT}
        <inputAssignments><field>{field}</field><value>{value}</value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>"""


def path(name: str, target: str, body: str) -> str:
    return f"""        <scheduledPaths>
            <name>{name}</name>
            <connector><targetReference>{target}</targetReference></connector>
            <label>{name}</label>
            {body}
        </scheduledPaths>"""


FOLLOW_UP = flow("Contact_Follow_Up", update("Mark_Hour", "Description",
                                             "<stringValue>{!$Record.Description}hour;</stringValue>")
                 + update("Mark_Async", "Department", "<stringValue>async</stringValue>")
                 + update("Mark_Eve", "Title", "<stringValue>eve of {!$Record.Birthdate}</stringValue>"), start=f"""
        <locationX>0</locationX><locationY>0</locationY>
        <object>Contact</object>
        <recordTriggerType>Create</recordTriggerType>
{path("In_One_Hour", "Mark_Hour", "<offsetNumber>1</offsetNumber><offsetUnit>Hours</offsetUnit><timeSource>RecordTriggerEvent</timeSource>")}
{path("Run_Async", "Mark_Async", "<pathType>AsyncAfterCommit</pathType>")}
{path("Birthday_Eve", "Mark_Eve", "<offsetNumber>-1</offsetNumber><offsetUnit>Days</offsetUnit><recordField>Birthdate</recordField><timeSource>RecordField</timeSource>")}
        <triggerType>RecordAfterSave</triggerType>""")


def files(*flows: str) -> dict[str, str]:
    return flow_package(*flows)


def clock(server, body: dict | None = None) -> dict:
    url, auth = f"{server.instance_url}/__localorg__/clock", {"Authorization": f"Bearer {server.access_token}"}
    r = (requests.post(url, json=body, headers=auth, verify=server.combined_ca_bundle) if body is not None
         else requests.get(url, headers=auth, verify=server.combined_ca_bundle))
    assert r.status_code == 200, r.text
    return r.json()


def test_the_flow_is_valid_against_the_xsd():
    for name, body in files(FOLLOW_UP).items():
        if name != "package.xml":
            assert [str(p) for p in validate_text(body, name)] == []


def test_paths_run_once_when_the_clock_passes_their_time_never_before(server, sf, tmp_path):
    assert https_deploy(server, files(FOLLOW_UP), tmp_path)["state"] == "Succeeded"
    assert clock(server, {"set": "2026-03-01T10:00:00Z"})["mode"] == "frozen"
    cid = sf.Contact.create({"LastName": "Lin", "Birthdate": "2026-03-05"})["id"]
    waiting = clock(server)["paths"]
    assert sorted((p["path"], p["due"]) for p in waiting) == [
        ("Birthday_Eve", "2026-03-04T00:00:00.000+0000"), ("In_One_Hour", "2026-03-01T11:00:00.000+0000"),
        ("Run_Async", "2026-03-01T10:00:00.000+0000")]
    # The asynchronous path runs right after the save committed: within a tick of the real-time runner.
    for _ in range(40):
        if sf.Contact.get(cid)["Department"] == "async":
            break
        time.sleep(0.1)
    assert sf.Contact.get(cid)["Department"] == "async"
    assert clock(server, {"advance": {"minutes": 59}})["ran"] == 0
    assert sf.Contact.get(cid)["Description"] is None
    assert clock(server, {"advance": {"minutes": 1}})["ran"] == 1
    assert sf.Contact.get(cid)["Description"] == "hour;"
    assert clock(server, {"advance": {"hours": 5}})["ran"] == 0
    assert sf.Contact.get(cid)["Description"] == "hour;"
    assert clock(server, {"set": "2026-03-03T23:59:59Z"})["ran"] == 0
    state = clock(server, {"advance": {"seconds": 1}})
    assert state["ran"] == 1 and state["paths"] == []
    assert sf.Contact.get(cid)["Title"] == "eve of 2026-03-05"
    assert clock(server, {"mode": "real"})["mode"] == "real"


def test_a_rolled_back_save_schedules_nothing_and_a_deleted_record_runs_nothing(server, sf, tmp_path):
    assert https_deploy(server, files(FOLLOW_UP), tmp_path)["state"] == "Succeeded"
    clock(server, {"set": "2026-03-01T10:00:00Z"})
    with pytest.raises(Exception):
        sf.Contact.create({"LastName": "Lin", "Email": "not an address"})
    assert clock(server)["paths"] == []
    cid = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(cid)
    state = clock(server, {"advance": {"hours": 2}})
    assert state["ran"] == 2 and state["paths"] == []  # due, read, skipped: the record is gone


@pytest.mark.parametrize("change, message", [
    ("<triggerType>RecordAfterSave</triggerType>", "scheduled paths belong to flows that run after a record is"),
    ("<recordField>Birthdate</recordField>", "recordField LastName is not a Date or Date/Time field"),
    ("<offsetUnit>Hours</offsetUnit>", "offsetUnit Weeks is not one of Months, Days, Hours, Minutes"),
])
def test_bad_scheduled_paths_are_refused_naming_the_line(forg, change, message):
    replacement = {"<triggerType>": "<triggerType>RecordBeforeSave</triggerType>",
                   "<recordField>": "<recordField>LastName</recordField>",
                   "<offsetUnit>": "<offsetUnit>Weeks</offsetUnit>"}[change[:change.index(">") + 1]]
    src = FOLLOW_UP.replace(change, replacement)
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(src)
    assert message in exc.value.message
    assert exc.value.line > 0 and "scheduledPaths" in split_name(src)[1].splitlines()[exc.value.line - 1] \
        or "start" in split_name(src)[1].splitlines()[exc.value.line - 1]


def test_a_nameless_asynchronous_path_deploys_as_flow_builder_saves_it(forg):
    src = FOLLOW_UP.replace("<name>Run_Async</name>", "")
    forg.deploy(src)
    [flow_] = [d.latest for d in forg.registry]
    assert [p.name for p in flow_.start.scheduled_paths] == ["In_One_Hour", "AsyncAfterCommit", "Birthday_Eve"]
