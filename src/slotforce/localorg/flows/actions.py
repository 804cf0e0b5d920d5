"""The action calls the runtime serves: Send Email (`emailSimple`), email alerts (`emailAlert`: a deployed
WorkflowAlert and its EmailTemplate), quick actions of the Create and Update kinds (`quickAction`, deployed
QuickAction metadata). Alerts and quick actions are kept on their object (SObject.email_alerts/quick_actions).

Each action checks its inputs at deploy (`check`: unknown parameters, missing required ones, what the
local org cannot do) and runs for the whole batch of interviews at its element (`run`). Mail is never
delivered: it is kept by the org (`access.send_email`, listed at GET /__localorg__/emails) inside the
transaction, so a save that rolls back sends nothing.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, Callable

from ..errors import SalesforceError
from . import values
from .access import LimitExceeded, Query
from .data import record_out
from .errors import Fault
from .model import ActionCall

# emailSimple inputs (Actions Developer Guide, "Simple Email Actions"); the API 64+/65+ cc/bcc ones too.
EMAIL_SIMPLE_INPUTS = {
    "emailaddresses", "emailaddressesarray", "recipientid", "ccrecipientaddresslist", "bccrecipientaddresslist",
    "recipientaddresslist", "ccaddresses", "bccaddresses", "recipientaddresses", "emailbody", "emailsubject",
    "sendertype", "senderaddress", "sendrichbody", "relatedrecordid", "uselinebreaks", "logemailonsend",
}
SENDER_TYPES = {"CurrentUser", "DefaultWorkflowUser", "OrgWideEmailAddress"}
MAX_RECIPIENTS = 150  # to, cc, bcc and recipientId together (API 64.0+; 5 before cc/bcc existed)


class ActionDefinitionError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def check(el: ActionCall, what: str, reference: Callable[[Any, int, str], None], schema=None) -> None:
    """Deploy-time check of one action call; `reference(value, line, what)` checks a value's references."""
    what = f"{what} ({el.action_type})"
    names = {a.field.lower(): a for a in el.inputs}
    if el.action_type == "quickAction":
        _check_quick_action(el, what, reference, schema, names)
        return
    if el.action_type == "emailAlert":
        obj, alert = email_alert(schema, el.action_name)
        if alert is None:
            raise ActionDefinitionError(f"{what}: there is no email alert {el.action_name} in this org or this "
                                        "deployment", el.line)
        for a in el.inputs:
            if a.field.lower() != "sobjectrowid":
                raise ActionDefinitionError(f"{what}: emailAlert has no input parameter {a.field} (it takes "
                                            "SObjectRowId, the record)", a.line)
            reference(a.value, a.line, what)
        if "sobjectrowid" not in names:
            raise ActionDefinitionError(f"{what}: the input parameter SObjectRowId is required", el.line)
        for a in el.outputs:
            raise ActionDefinitionError(f"{what}: emailAlert has no output parameter {a.field}", a.line)
        return
    if el.action_type == "emailSimple":
        for a in el.inputs:
            if a.field.lower() not in EMAIL_SIMPLE_INPUTS:
                raise ActionDefinitionError(f"{what}: emailSimple has no input parameter {a.field}", a.line)
            reference(a.value, a.line, what)
        for required in ("emailSubject",):
            if required.lower() not in names:
                raise ActionDefinitionError(f"{what}: the input parameter {required} is required", el.line)
        if "emailbody" not in names:
            raise ActionDefinitionError(f"{what}: the input parameter emailBody is required (email templates by "
                                        "id are not supported by the local org)", el.line)
        log = names.get("logemailonsend")
        if log is not None and log.value is not None and (log.value.kind != "boolean" or log.value.value):
            raise ActionDefinitionError(f"{what}: logEmailOnSend is not supported by the local org (it keeps "
                                        "no EmailMessage records); the mail is listed at /__localorg__/emails",
                                        log.line)
        sender = names.get("sendertype")
        if sender is not None and sender.value is not None and sender.value.kind == "string" \
                and sender.value.value not in SENDER_TYPES:
            raise ActionDefinitionError(f"{what}: senderType {sender.value.value} is not one of "
                                        f"{', '.join(sorted(SENDER_TYPES))}", sender.line)
        for a in el.outputs:
            raise ActionDefinitionError(f"{what}: emailSimple has no output parameter {a.field}", a.line)
        return
    raise ActionDefinitionError(f"actionCalls {el.name} ({el.action_type}) is not supported by the local org's "
                                "flow runtime", el.line)


def email_alert(schema, action_name: str) -> tuple[Any, dict | None]:
    """(object, definition) of a deployed WorkflowAlert named Object.Alert."""
    obj_name, _, alert = action_name.partition(".")
    obj = schema.get(obj_name) if alert else None
    return obj, (obj.email_alerts.get(alert) if obj is not None else None)


_MERGE = re.compile(r"\{!([^}]*)\}")


def _email_alert(access, flow, el: ActionCall, given: dict) -> dict | Fault:
    obj, alert = email_alert(access.schema, el.action_name)
    template = access.email_template(alert["template"])
    if template is None:
        return Fault(f"the email template {alert['template']} of {el.action_name} is no longer in the org")
    record_id = values.to_text(given.get("sobjectrowid"))
    if not record_id:
        return Fault("REQUIRED_FIELD_MISSING: SObjectRowId is blank")
    rows = access.query(Query(obj.name, [f.name for f in obj.fields.values()], ("cond", "Id", "=", record_id)))
    if not rows:
        return Fault(f"INVALID_CROSS_REFERENCE_KEY: {record_id} is not a {obj.name} record")
    rec = rows[0]
    to = []
    for r in alert["recipients"]:
        if r["type"] == "email":
            address = rec.get(r["field"])
        elif r["type"] == "user":
            found = access.query(Query("User", ["Id", "Email"], ("cond", "Username", "=", r["recipient"] or "")))
            address = found[0].get("Email") if found else None
        else:
            who = rec.get({"owner": "OwnerId", "creator": "CreatedById"}.get(r["type"], r["field"] or ""))
            address = _recipient_email(access, who) if who else None
        if address:
            to.append(address)
    cc = [e for e in alert["ccEmails"] if e]
    if not (to or cc):
        return {}  # a recipient field left blank is skipped, as a workflow alert skips it: nothing to send
    html = template["type"] != "text"

    def fill(text: str) -> str:
        def one(m):
            _, _, field_name = m.group(1).strip().partition(".")
            f = obj.field(field_name)
            v = values.to_text(rec.get(f.name)) if f is not None else None
            return escape(v or "") if html else (v or "")
        return _MERGE.sub(one, text)

    if alert["senderType"] == "OrgWideEmailAddress":
        sender = alert.get("senderAddress")
    else:
        sender = _user_email(access, access.user_id)
    access.send_email({
        "source": "flow", "flow": flow.name, "element": el.name, "actionType": "emailAlert",
        "alert": el.action_name, "template": alert["template"], "from": sender, "senderType": alert["senderType"],
        "to": to, "cc": cc, "bcc": [], "subject": fill(template["subject"]), "body": fill(template["body"]),
        "isHtml": html, "relatedRecordId": rec["Id"],
    })
    return {}


def quick_action(schema, action_name: str) -> tuple[Any, dict | None]:
    """(object, definition) of a deployed quick action named Object.Action."""
    obj_name, _, action = action_name.partition(".")
    obj = schema.get(obj_name) if action else None
    return obj, (obj.quick_actions.get(action) if obj is not None else None)


def _check_quick_action(el: ActionCall, what: str, reference, schema, names: dict) -> None:
    obj, definition = quick_action(schema, el.action_name)
    if definition is None:
        raise ActionDefinitionError(f"{what}: there is no quick action {el.action_name} in this org or this "
                                    "deployment (global quick actions are not supported)", el.line)
    if definition["type"] not in ("Create", "Update"):
        raise ActionDefinitionError(f"actionCalls {el.name} (quickAction {el.action_name}): quick actions of type "
                                    f"{definition['type']} are not supported by the local org's flow runtime "
                                    "(Create and Update are)", el.line)
    target = schema.get(definition["targetObject"])
    for a in el.inputs:
        reference(a.value, a.line, what)
        if a.field.lower() == "contextid":
            continue
        f = target.field(a.field)
        if f is None:
            raise ActionDefinitionError(f"{what}: {el.action_name} has no input parameter {a.field} (not a field of "
                                        f"{target.name})", a.line)
        if not (f.createable if definition["type"] == "Create" else f.updateable):
            raise ActionDefinitionError(f"{what}: the field {target.name}.{f.name} cannot be set by a "
                                        f"{definition['type']} action", a.line)
    if definition["type"] == "Update" and "contextid" not in names:
        raise ActionDefinitionError(f"{what}: an Update quick action needs the input parameter contextId (the "
                                    "record to update)", el.line)
    for a in el.outputs:
        raise ActionDefinitionError(f"{what}: output parameter {a.field} of a quick action is not supported by the "
                                    "local org's flow runtime", a.line)


def _quick_actions(access, el: ActionCall, inputs: list[dict]) -> list:
    """Every interview's record of one quick action element: one DML statement for the batch."""
    _, definition = quick_action(access.schema, el.action_name)
    target = definition["targetObject"]
    rows = []
    for given in inputs:
        rec = dict(definition["overrides"])
        rec.update({k: v for k, v in given.items() if k != "contextid"})
        rec = record_out(access.schema, target, {"attributes": {"type": target},
                                                 **{_field_name(access.schema, target, k): v for k, v in rec.items()}},
                         create=definition["type"] == "Create")
        context = given.get("contextid")
        if definition["type"] == "Update":
            if not context:
                return [Fault("REQUIRED_FIELD_MISSING: contextId: the record to update is blank") for _ in inputs]
            rec["Id"] = context
        elif definition.get("parentField") and context:
            rec[definition["parentField"]] = context
        rows.append(rec)
    try:
        access.limits.charge_dml(len(rows))
        if definition["type"] == "Create":
            ids = access.insert(target, rows)
            return [{"id": i} for i in ids]
        access.update(target, rows)
        return [{} for _ in rows]
    except SalesforceError as exc:
        if getattr(exc, "limit", False) or isinstance(exc, LimitExceeded):
            raise
        inner = exc.message if exc.message.startswith(exc.error_code) else f"{exc.error_code}: {exc.message}"
        return [Fault(f"This error occurred when the flow tried to run the quick action {el.action_name}: {inner}")
                for _ in inputs]


def _field_name(schema, sobject: str, name: str) -> str:
    f = schema.get(sobject).field(name)
    return f.name if f is not None else name


def run(access, flow, el: ActionCall, inputs: list[dict]) -> list:
    """Run the action for every interview at the element; each gets its outputs (a dict) or a Fault."""
    if el.action_type == "emailSimple":
        return [_email_simple(access, flow, el, given) for given in inputs]
    if el.action_type == "quickAction":
        return _quick_actions(access, el, inputs)
    if el.action_type == "emailAlert":
        return [_email_alert(access, flow, el, given) for given in inputs]
    return [Fault(f"the action type {el.action_type} is not supported") for _ in inputs]


def _addresses(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [a.strip() for a in (values.to_text(x) or "" for x in items) if a.strip()]


def _user_email(access, user_id: str) -> str | None:
    rows = access.query(Query("User", ["Id", "Email", "Name"], ("cond", "Id", "=", user_id)))
    return rows[0].get("Email") if rows else None


def _recipient_email(access, record_id: str) -> str | None:
    obj = access.schema.by_prefix(record_id)
    if obj is None or obj.name not in ("User", "Contact", "Lead"):
        return None
    rows = access.query(Query(obj.name, ["Id", "Email"], ("cond", "Id", "=", record_id)))
    return rows[0].get("Email") if rows else None


def _email_simple(access, flow, el: ActionCall, given: dict) -> dict | Fault:
    to = _addresses(given.get("emailaddresses")) + _addresses(given.get("emailaddressesarray")) \
        + _addresses(given.get("recipientaddresses")) + _addresses(given.get("recipientaddresslist"))
    cc = _addresses(given.get("ccrecipientaddresslist")) + _addresses(given.get("ccaddresses"))
    bcc = _addresses(given.get("bccrecipientaddresslist")) + _addresses(given.get("bccaddresses"))
    recipient = given.get("recipientid")
    if recipient:
        address = _recipient_email(access, str(recipient))
        if address is None:
            return Fault(f"INVALID_ID_FIELD: recipientId {recipient} is not a user, contact or lead with an email "
                         "address")
        to.append(address)
    if not (to or cc or bcc):
        return Fault("REQUIRED_FIELD_MISSING: Missing required input parameter: emailAddresses")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        return Fault(f"LIMIT_EXCEEDED: an email can have at most {MAX_RECIPIENTS} recipients")
    sender_type = values.to_text(given.get("sendertype")) or "CurrentUser"
    if sender_type == "OrgWideEmailAddress":
        sender = values.to_text(given.get("senderaddress"))
        if not sender:
            return Fault("REQUIRED_FIELD_MISSING: senderAddress is required when senderType is OrgWideEmailAddress")
    else:
        # The default workflow user of the local org is its admin, the user API requests run as.
        sender = _user_email(access, access.user_id)
    subject = values.to_text(given.get("emailsubject"))
    if not subject:
        return Fault("REQUIRED_FIELD_MISSING: Missing required input parameter: emailSubject")
    access.send_email({
        "source": "flow", "flow": flow.name, "element": el.name, "actionType": "emailSimple",
        "from": sender, "senderType": sender_type, "to": to, "cc": cc, "bcc": bcc, "subject": subject,
        "body": values.to_text(given.get("emailbody")) or "",
        "isHtml": bool(values.to_boolean(given.get("sendrichbody"))),
        "relatedRecordId": values.to_text(given.get("relatedrecordid")),
    })
    return {}
