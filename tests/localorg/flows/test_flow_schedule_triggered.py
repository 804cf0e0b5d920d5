"""Schedule-triggered flows (triggerType Scheduled): each occurrence the org's clock passes, once per record."""

from __future__ import annotations

import datetime as dt

import pytest
from flowkit import flow

from slotforce.localorg.flows.parser import FlowDefinitionError

UTC = dt.timezone.utc
NIGHTLY = flow("Nightly_Count", """
    <assignments>
        <name>Bump</name>
        <label>Bump</label><locationX>0</locationX><locationY>0</locationY>
        <assignmentItems><assignToReference>$Record.Count__c</assignToReference><operator>Add</operator><value><numberValue>1</numberValue></value></assignmentItems>
        <connector><targetReference>Save</targetReference></connector>
    </assignments>
    <recordUpdates>
        <name>Save</name>
        <label>Save</label><locationX>0</locationX><locationY>0</locationY>
        <inputReference>$Record</inputReference>
    </recordUpdates>""", start="""
        <connector><targetReference>Bump</targetReference></connector>
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Created</stringValue></value></filters>
        <object>Booking__c</object>
        <schedule><frequency>Daily</frequency><startDate>2026-03-01</startDate><startTime>08:00:00.000Z</startTime></schedule>
        <triggerType>Scheduled</triggerType>""")


def counts(forg) -> dict:
    return {r["Action__c"]: r["Count__c"] for r in forg.query("SELECT Action__c, Count__c FROM Booking__c")}


def test_a_daily_flow_runs_each_day_the_clock_passes_for_the_records_meeting_its_filters(forg):
    clock = forg.org.clock
    clock.set(dt.datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    forg.save("insert", "Booking__c", [{"Action__c": "Created", "Count__c": 0}, {"Action__c": "Other", "Count__c": 0}])
    forg.deploy(NIGHTLY)
    forg.hooks.note_schedules(forg.org.conn)  # a Metadata deploy does this when the flow becomes active
    assert forg.hooks.run_due() == 0
    clock.advance(dt.timedelta(minutes=59))
    assert forg.hooks.run_due() == 0 and counts(forg) == {"Created": 0, "Other": 0}
    clock.advance(dt.timedelta(minutes=1))
    assert forg.hooks.run_due() == 1 and counts(forg) == {"Created": 1, "Other": 0}
    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert forg.hooks.run_due() == 0 and counts(forg)["Created"] == 1
    clock.advance(dt.timedelta(days=2, minutes=1))  # now Mar 4 08:00: the 2nd, 3rd and 4th each run once
    assert forg.hooks.run_due() == 3 and counts(forg)["Created"] == 4


@pytest.mark.parametrize("change, message", [
    ("<frequency>Daily</frequency>", "frequency Hourly is not one of Once, Daily, Weekly"),
    ("<startDate>2026-03-01</startDate>", "startDate soon / startTime 08:00:00.000Z is not a date and a time"),
])
def test_bad_schedules_are_refused(forg, change, message):
    bad = {"<frequency>": "<frequency>Hourly</frequency>", "<startDate>": "<startDate>soon</startDate>"}
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(NIGHTLY.replace(change, bad[change[:change.index(">") + 1]]))
    assert message in exc.value.message
