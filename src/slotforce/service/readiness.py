"""Is the org ready for the user slotforce connects as? Permission set, access, Shared Activities, the package.

Asked by `slotforce check-config` once it is connected. Every check answers what it found and, when
it failed, what the admin does about it; it changes nothing in the org.
"""

from __future__ import annotations

from dataclasses import dataclass

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

PERMISSION_SET = "Slotforce_Integration"
# What the engine writes: the Booking_Action__c fields of sync/plan.py's action_fields and the
# Scheduling_Link__c fields of link sync (a test keeps these within the package model). A field the
# user cannot see is missing from describe, so an absent one means an older package or no access.
WRITTEN = {
    "Booking_Action__c": (
        "Action_Key__c", "Action__c", "Booking_Uid__c", "Previous_Booking_Uid__c", "Source__c", "Subject__c",
        "Description__c", "Start__c", "End__c", "Invitee_Timezone__c", "Location__c", "Meeting_Url__c",
        "Meeting_Type__c", "Router_Name__c", "Organizer_Email__c", "Owner_Id__c", "Who_Id__c", "What_Id__c",
        "Invitee_Email__c", "Invitee_Name__c", "Guest_Emails__c", "Co_Host_Emails__c", "Cancel_Mode__c",
        "Cancel_Reason__c", "Canceled_By__c", "Reschedule_Requested__c", "No_Show_Emails__c", "Host_No_Show__c",
        "Seat_Id__c"),
    "Scheduling_Link__c": ("Link_Key__c", "Url__c", "Kind__c", "Owner_Email__c", "Active__c"),
}
# Objects the engine creates and edits, and those it only reads (DESIGN.md, Slotforce_Integration).
EDITED = ("Booking_Action__c", "Scheduling_Link__c", "Lead", "Contact")
READ = ("Account", "User", "RecordType", "Event", "EventRelation")


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and what was found or what to do."""

    name: str
    ok: bool
    detail: str


def readiness(sf: Salesforce, org_name: str = "ORG") -> list[Check]:
    """The checks for the user `sf` is logged in as; `org_name` goes into the commands it suggests."""
    user_id, username = _whoami(sf)
    describes = {name: _describe(sf, name) for name in (*EDITED, *READ)}
    assigned = _assigned(sf, user_id)
    return [
        _permission_set(assigned, username, org_name),
        _access(describes, username),
        _shared_activities(describes.get("EventRelation")),
        _package(describes, assigned, org_name),
    ]


def _whoami(sf: Salesforce) -> tuple[str, str]:
    info = sf.session.get(f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers, timeout=30)
    info.raise_for_status()
    body = info.json()
    return body["user_id"], body["preferred_username"]


def _describe(sf: Salesforce, name: str) -> dict | None:
    try:
        return getattr(sf, name).describe()
    except SalesforceError:  # not deployed, or the user cannot see it: both answer 404 NOT_FOUND
        return None


def _assigned(sf: Salesforce, user_id: str) -> bool:
    soql = ("SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = '{}' "
            "AND PermissionSet.Name = '{}'").format(user_id, PERMISSION_SET)
    return sf.query(soql)["totalSize"] > 0


def _permission_set(assigned: bool, username: str, org_name: str) -> Check:
    if assigned:
        return Check("permission set", True, f"{PERMISSION_SET} is assigned to {username}")
    return Check("permission set", False, f"{PERMISSION_SET} is not assigned to {username}: "
                 f"sf org assign permset --name {PERMISSION_SET} --on-behalf-of {username} --target-org {org_name} "
                 "(or Setup > Users > the user > Permission Set Assignments)")


def _access(describes: dict[str, dict | None], username: str) -> Check:
    missing = []
    for name in EDITED:
        d = describes[name]
        if d is None or not (d.get("createable") and d.get("updateable") and d.get("queryable")):
            missing.append(f"create/read/edit {name}")
    missing += [f"read {name}" for name in READ if not (describes[name] or {}).get("queryable")]
    for name, fields in WRITTEN.items():
        have = {f["name"]: f for f in (describes[name] or {}).get("fields", [])}
        if describes[name] is not None:
            missing += [f"edit {name}.{f}" for f in fields if not (have.get(f) or {}).get("updateable")]
    if not missing:
        return Check("object and field access", True, f"{username} can do what the engine does")
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return Check("object and field access", False, f"{username} cannot {shown}: assign {PERMISSION_SET} "
                 "(it grants exactly these), and check the user's licence is Salesforce (not Platform)")


def _shared_activities(event_relation: dict | None) -> Check:
    # EventRelation's IsParent and IsWhat exist only once Shared Activities is on
    fields = {f["name"] for f in (event_relation or {}).get("fields", [])}
    if "IsParent" in fields:
        return Check("Shared Activities", True, "on (an Event relates several contacts)")
    return Check("Shared Activities", False, "off: Setup > Activity Settings > Allow Users to Relate Multiple "
                 "Contacts to Tasks and Events (it cannot be turned off again; guests are related this way)")


def _package(describes: dict[str, dict | None], assigned: bool, org_name: str) -> Check:
    deploy = f"cci flow run deploy_package --org {org_name}"
    objects = [name for name in WRITTEN if describes[name] is None]
    if objects:
        return Check("package", False, f"{', '.join(objects)} not found: the package is not deployed "
                     f"(or not visible to this user): {deploy}")
    fields = [f"{name}.{f}" for name, wanted in WRITTEN.items()
              for f in wanted if f not in {x["name"] for x in describes[name]["fields"]}]
    if not fields:
        return Check("package", True, f"deployed with every field this slotforce writes ({sum(map(len, WRITTEN.values()))})")
    why = "an older package is deployed" if assigned else "an older package is deployed, or the user lacks access"
    return Check("package", False, f"{why} (no {', '.join(fields[:5])}{' ...' if len(fields) > 5 else ''}): "
                 f"deploy this version's package: {deploy}")
