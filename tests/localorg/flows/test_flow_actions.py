"""Action calls the runtime serves (Send Email), deployed and run over HTTPS; the mail is kept, not sent."""

from __future__ import annotations

import pytest
import requests
from flowkit import flow, flow_package, https_deploy, package, record_start, split_name

from slotforce.localorg.flows.parser import FlowDefinitionError
from slotforce.package.xsd import validate_text

AT = "<label>x</label><locationX>0</locationX><locationY>0</locationY>"


def param(name: str, value: str) -> str:
    return f"<inputParameters><name>{name}</name><value>{value}</value></inputParameters>"


def welcome(*params: str, fault: str = "") -> str:
    return flow("Contact_Welcome", f"""
    <actionCalls>
        <name>Send_Welcome</name>
        {AT}
        <actionName>emailSimple</actionName>
        <actionType>emailSimple</actionType>
        {fault}
        {''.join(params)}
    </actionCalls>
    <textTemplates>
        <name>Body</name>
        <isViewedAsPlainText>true</isViewedAsPlainText>
        <text>Welcome {{!$Record.FirstName}}!</text>
    </textTemplates>""", start="        <locationX>0</locationX><locationY>0</locationY>\n"
                      + record_start("Contact", "Send_Welcome"))


WELCOME = welcome(param("emailAddresses", "<elementReference>$Record.Email</elementReference>"),
                  param("emailSubject", "<stringValue>Hello {!$Record.LastName}</stringValue>"),
                  param("emailBody", "<elementReference>Body</elementReference>"),
                  param("senderType", "<stringValue>CurrentUser</stringValue>"),
                  param("ccRecipientAddressList", "<stringValue>a@x.example, b@x.example</stringValue>"))


BREAK = flow("Contact_Break", """
    <recordUpdates>
        <name>Spoil</name>
        <label>x</label><locationX>0</locationX><locationY>0</locationY>
        <inputAssignments><field>Email</field><value><stringValue>not an address</stringValue></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>""", start="        <locationX>0</locationX><locationY>0</locationY>\n" + record_start("Contact", "Spoil", extra="""
        <filterLogic>and</filterLogic>
        <filters><field>LastName</field><operator>EqualTo</operator><value><stringValue>Break</stringValue></value></filters>"""))


def files(*flows: str) -> dict[str, str]:
    return flow_package(*flows)


def kept(server) -> list[dict]:
    r = requests.get(f"{server.instance_url}/__localorg__/emails", verify=server.combined_ca_bundle,
                     headers={"Authorization": f"Bearer {server.access_token}"})
    assert r.status_code == 200, r.text
    return r.json()["emails"]


def test_the_flows_are_valid_against_the_xsd():
    for name, body in files(WELCOME).items():
        if name != "package.xml":
            assert [str(p) for p in validate_text(body, name)] == []


def test_send_email_is_kept_once_per_saved_record_and_listed(server, sf, tmp_path):
    status = https_deploy(server, files(WELCOME), tmp_path)
    assert status["state"] == "Succeeded", status
    sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@x.example"})
    sf.Contact.create({"FirstName": "Alan", "LastName": "Turing", "Email": "alan@x.example"})
    mail = kept(server)
    assert [(m["to"], m["subject"], m["body"]) for m in mail] == [
        (["ada@x.example"], "Hello Lovelace", "Welcome Ada!"), (["alan@x.example"], "Hello Turing", "Welcome Alan!")]
    assert mail[0]["cc"] == ["a@x.example", "b@x.example"] and mail[0]["from"] == "admin@slotforce.example"
    assert mail[0]["flow"] == "Contact_Welcome" and mail[0]["element"] == "Send_Welcome" and mail[0]["sentAt"]
    # A save that fails after the mail was composed rolls it back: nothing is kept.
    assert https_deploy(server, files(WELCOME.replace("<processType>", "<triggerOrder>1</triggerOrder><processType>"),
                                      BREAK), tmp_path)["state"] == "Succeeded"
    with pytest.raises(Exception) as exc:
        sf.Contact.create({"LastName": "Break", "Email": "break@x.example"})
    assert "CANNOT_EXECUTE_FLOW_TRIGGER" in str(exc.value) and "Contact_Break" in str(exc.value)
    assert len(kept(server)) == 2
    requests.delete(f"{server.instance_url}/__localorg__/emails", verify=server.combined_ca_bundle,
                    headers={"Authorization": f"Bearer {server.access_token}"})
    assert kept(server) == []


def test_a_fault_path_catches_a_failed_send(server, sf, tmp_path):
    src = welcome(param("emailSubject", "<stringValue>Hi</stringValue>"),
                  param("emailBody", "<stringValue>Hi</stringValue>"),
                  param("recipientId", "<elementReference>$Record.AccountId</elementReference>"),
                  fault="<faultConnector><targetReference>Note_Failure</targetReference></faultConnector>")
    src = src.replace("    <textTemplates>", """    <recordUpdates>
        <name>Note_Failure</name>
        <label>x</label><locationX>0</locationX><locationY>0</locationY>
        <inputAssignments><field>Description</field><value><elementReference>$Flow.FaultMessage</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <textTemplates>""")
    assert https_deploy(server, files(src), tmp_path)["state"] == "Succeeded"
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Lin", "AccountId": account})["id"]
    assert "recipientId" in sf.Contact.get(contact)["Description"]
    assert kept(server) == []


@pytest.mark.parametrize("params, message", [
    ((param("emailSubject", "<stringValue>x</stringValue>"),),
     "actionCalls Send_Welcome (emailSimple): the input parameter emailBody is required"),
    ((param("emailSubject", "<stringValue>x</stringValue>"), param("emailBody", "<stringValue>x</stringValue>"),
      param("logEmailOnSend", "<booleanValue>true</booleanValue>")), "logEmailOnSend is not supported"),
    ((param("emailSubject", "<stringValue>x</stringValue>"), param("emailBody", "<stringValue>x</stringValue>"),
      param("emailAdresses", "<stringValue>x</stringValue>")), "emailSimple has no input parameter emailAdresses"),
])
def test_bad_send_email_inputs_are_refused_naming_file_line_and_element(server, sf, tmp_path, params, message):
    status = https_deploy(server, files(welcome(*params)), tmp_path)
    assert status["state"] == "Failed"
    [error] = status["deployment_detail"]["errors"]
    assert error["file"] == "flows/Contact_Welcome.flow" and message in error["message"], error


def test_a_refused_input_names_its_line(forg):
    src = welcome(param("emailSubject", "<stringValue>x</stringValue>"), param("emailBody", "<stringValue>x</stringValue>"),
                  param("logEmailOnSend", "<booleanValue>true</booleanValue>"))
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(src)
    lines = split_name(src)[1].splitlines()
    assert "logEmailOnSend" in lines[exc.value.line - 1]


def test_other_action_types_stay_refused_naming_type_and_name(server, sf, tmp_path):
    src = WELCOME.replace("<actionName>emailSimple</actionName>", "<actionName>Do_It</actionName>").replace(
        "<actionType>emailSimple</actionType>", "<actionType>apex</actionType>")
    [error] = https_deploy(server, files(src), tmp_path)["deployment_detail"]["errors"]
    assert "actionCalls Send_Welcome (apex Do_It) is not supported" in error["message"]


HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
NEW_CONTACT = HEADER + """<QuickAction xmlns="http://soap.sforce.com/2006/04/metadata">
    <fieldOverrides>
        <field>LeadSource</field>
        <literalValue>Web</literalValue>
    </fieldOverrides>
    <label>New Contact</label>
    <optionsCreateFeedItem>false</optionsCreateFeedItem>
    <quickActionLayout>
        <layoutSectionStyle>TwoColumnsLeftToRight</layoutSectionStyle>
        <quickActionLayoutColumns>
            <quickActionLayoutItems>
                <emptySpace>false</emptySpace>
                <field>LastName</field>
                <uiBehavior>Required</uiBehavior>
            </quickActionLayoutItems>
        </quickActionLayoutColumns>
        <quickActionLayoutColumns/>
    </quickActionLayout>
    <targetObject>Contact</targetObject>
    <targetParentField>Account</targetParentField>
    <type>Create</type>
</QuickAction>
"""
MARK_VIP = HEADER + """<QuickAction xmlns="http://soap.sforce.com/2006/04/metadata">
    <fieldOverrides>
        <field>Title</field>
        <formula>"VIP"</formula>
    </fieldOverrides>
    <label>Mark VIP</label>
    <optionsCreateFeedItem>false</optionsCreateFeedItem>
    <type>Update</type>
</QuickAction>
"""


def quick_flow(name: str, obj: str, action: str, *params: str) -> str:
    return flow(name, f"""
    <actionCalls>
        <name>Run_Action</name>
        {AT}
        <actionName>{action}</actionName>
        <actionType>quickAction</actionType>
        {''.join(params)}
    </actionCalls>""", start="        <locationX>0</locationX><locationY>0</locationY>\n" + record_start(obj, "Run_Action"))


ACCOUNT_CONTACT = quick_flow("Account_First_Contact", "Account", "Account.New_Contact",
                             param("contextId", "<elementReference>$Record.Id</elementReference>"),
                             param("LastName", "<stringValue>Owner of {!$Record.Name}</stringValue>"))
CONTACT_VIP = quick_flow("Contact_Vip", "Contact", "Contact.Mark_Vip",
                         param("contextId", "<elementReference>$Record.Id</elementReference>"))


def quick_files(*flows: str, actions: dict[str, str] | None = None) -> dict[str, str]:
    out = files(*flows)
    actions = {"Account.New_Contact": NEW_CONTACT, "Contact.Mark_Vip": MARK_VIP} if actions is None else actions
    for name, body in actions.items():
        out[f"quickActions/{name}.quickAction"] = body
    out["package.xml"] = package({"Flow": [split_name(f)[0] for f in flows], "QuickAction": list(actions)})
    return out


def test_quick_action_files_are_valid_against_the_xsd():
    for name, body in quick_files(ACCOUNT_CONTACT, CONTACT_VIP).items():
        if name != "package.xml":
            assert [str(p) for p in validate_text(body, name)] == []


def test_create_and_update_quick_actions_run_from_flows(server, sf, tmp_path):
    status = https_deploy(server, quick_files(ACCOUNT_CONTACT, CONTACT_VIP), tmp_path)
    assert status["state"] == "Succeeded", status
    accounts = [sf.Account.create({"Name": n})["id"] for n in ("Acme", "Bolt")]
    rows = sf.query("SELECT LastName, LeadSource, Title, AccountId FROM Contact ORDER BY LastName")["records"]
    assert [(r["LastName"], r["LeadSource"], r["Title"], r["AccountId"][:15]) for r in rows] == [
        ("Owner of Acme", "Web", "VIP", accounts[0][:15]), ("Owner of Bolt", "Web", "VIP", accounts[1][:15])]


@pytest.mark.parametrize("flow_src, actions, message", [
    (quick_flow("Account_First_Contact", "Account", "Account.Nope"), None,
     "there is no quick action Account.Nope in this org or this deployment"),
    (ACCOUNT_CONTACT.replace("<name>LastName</name>", "<name>Nope__c</name>"), None,
     "Account.New_Contact has no input parameter Nope__c"),
    (quick_flow("Contact_Vip", "Contact", "Contact.Mark_Vip"), None, "an Update quick action needs the input parameter "
                                                                    "contextId"),
    (quick_flow("Contact_Vip", "Contact", "Contact.Log"),
     {"Contact.Log": MARK_VIP.replace("<type>Update</type>", "<type>LogACall</type>")},
     "actionCalls Run_Action (quickAction Contact.Log): quick actions of type LogACall are not supported"),
])
def test_quick_actions_the_org_cannot_run_are_refused(server, sf, tmp_path, flow_src, actions, message):
    status = https_deploy(server, quick_files(flow_src, actions=actions), tmp_path)
    assert status["state"] == "Failed"
    errors = status["deployment_detail"]["errors"]
    assert any(message in e["message"] for e in errors), errors


TEMPLATE_META = HEADER + """<EmailTemplate xmlns="http://soap.sforce.com/2006/04/metadata">
    <available>true</available>
    <encodingKey>UTF-8</encodingKey>
    <name>Contact Welcome</name>
    <style>none</style>
    <subject>Welcome, {!Contact.FirstName}</subject>
    <type>text</type>
    <uiType>Aloha</uiType>
</EmailTemplate>
"""
TEMPLATE_BODY = "Dear {!Contact.FirstName} {!Contact.LastName},\nwelcome aboard.\n"
WORKFLOW = HEADER + """<Workflow xmlns="http://soap.sforce.com/2006/04/metadata">
    <alerts>
        <fullName>Welcome_Alert</fullName>
        <ccEmails>team@x.example</ccEmails>
        <description>Welcome Alert</description>
        <protected>false</protected>
        <recipients>
            <field>Email</field>
            <type>email</type>
        </recipients>
        <recipients>
            <type>owner</type>
        </recipients>
        <senderType>CurrentUser</senderType>
        <template>unfiled$public/Contact_Welcome</template>
    </alerts>
</Workflow>
"""
ALERT_FLOW = flow("Contact_Alert", f"""
    <actionCalls>
        <name>Send_Alert</name>
        {AT}
        <actionName>Contact.Welcome_Alert</actionName>
        <actionType>emailAlert</actionType>
        {param("SObjectRowId", "<elementReference>$Record.Id</elementReference>")}
    </actionCalls>""", start="        <locationX>0</locationX><locationY>0</locationY>\n" + record_start("Contact", "Send_Alert"))


def alert_files(workflow: str = WORKFLOW, template_meta: str = TEMPLATE_META) -> dict[str, str]:
    out = files(ALERT_FLOW)
    out["email/unfiled$public/Contact_Welcome.email"] = TEMPLATE_BODY
    out["email/unfiled$public/Contact_Welcome.email-meta.xml"] = template_meta
    out["workflows/Contact.workflow"] = workflow
    out["package.xml"] = package({"Flow": ["Contact_Alert"], "EmailTemplate": ["unfiled$public/Contact_Welcome"],
                                  "WorkflowAlert": ["Contact.Welcome_Alert"]})
    return out


def test_email_alert_files_are_valid_against_the_xsd():
    for name, body in alert_files().items():
        if name.endswith((".flow", ".workflow", "-meta.xml")):
            assert [str(p) for p in validate_text(body, name)] == [], name


def test_an_email_alert_fills_its_template_for_the_record_and_its_recipients(server, sf, tmp_path):
    status = https_deploy(server, alert_files(), tmp_path)
    assert status["state"] == "Succeeded", status
    requests.delete(f"{server.instance_url}/__localorg__/emails", verify=server.combined_ca_bundle,
                    headers={"Authorization": f"Bearer {server.access_token}"})
    sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@x.example"})
    [mail] = [m for m in kept(server) if m["actionType"] == "emailAlert"]
    assert mail["to"] == ["ada@x.example", "admin@slotforce.example"] and mail["cc"] == ["team@x.example"]
    assert mail["subject"] == "Welcome, Ada" and mail["body"] == "Dear Ada Lovelace,\nwelcome aboard.\n"
    assert (mail["alert"], mail["template"]) == ("Contact.Welcome_Alert", "unfiled$public/Contact_Welcome")


@pytest.mark.parametrize("workflow, template_meta, message", [
    (WORKFLOW.replace("<type>owner</type>", "<type>role</type><recipient>CEO</recipient>"), TEMPLATE_META,
     "recipients of type role are not supported by the local org"),
    (WORKFLOW, TEMPLATE_META.replace("{!Contact.FirstName}", "{!Receiving_User.FirstName}"),
     "uses the merge field {!Receiving_User.FirstName}, which the local org cannot fill"),
    (WORKFLOW.replace("</alerts>", "</alerts><rules><fullName>R</fullName></rules>"), TEMPLATE_META,
     "workflow <rules> are not supported by the local org"),
    (WORKFLOW, TEMPLATE_META.replace("<type>text</type>", "<type>visualforce</type>"),
     "email templates of type visualforce are not supported"),
])
def test_alerts_and_templates_the_org_cannot_send_are_refused(server, sf, tmp_path, workflow, template_meta, message):
    status = https_deploy(server, alert_files(workflow, template_meta), tmp_path)
    assert status["state"] == "Failed"
    errors = status["deployment_detail"]["errors"]
    assert any(message in e["message"] for e in errors), errors
