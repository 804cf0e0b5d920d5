*** Settings ***
Documentation     Keywords for the slotforce suites: people, Booking Actions and what the Flows made of them.
...
...               API keywords only (CumulusCI + SalesforceAPI, no browser). Every suite gets a fresh
...               ${RUN} suffix so its emails and booking uids never collide with an earlier run against
...               the same org: the suites can be re-run without resetting the org.
Library           Collections
Library           String
Library           cumulusci.robotframework.CumulusCI    ${ORG}
Library           cumulusci.robotframework.SalesforceAPI


*** Variables ***
${START}          2026-12-01T10:00:00.000+0000
${END}            2026-12-01T10:30:00.000+0000
${NEW_START}      2026-12-03T15:00:00.000+0000
${NEW_END}        2026-12-03T16:00:00.000+0000


*** Keywords ***
Start A Run
    [Documentation]    Pick the suffix that keeps this run's data apart from any earlier run's.
    ${run}=    Generate Random String    8    [LOWER][NUMBERS]
    Set Suite Variable    ${RUN}    ${run}

Uid
    [Documentation]    A booking uid unique to this run.
    [Arguments]    ${name}
    RETURN    ${name}-${RUN}

Email
    [Documentation]    An email address unique to this run.
    [Arguments]    ${name}    ${domain}=example.com
    RETURN    ${name}.${RUN}@${domain}

Create Contact
    [Arguments]    ${last_name}    ${email}
    ${id}=    Salesforce Insert    Contact    LastName=${last_name}    Email=${email}
    RETURN    ${id}

Create Lead
    [Arguments]    ${last_name}    ${email}    ${company}=Acme
    ${id}=    Salesforce Insert    Lead    LastName=${last_name}    Email=${email}    Company=${company}
    RETURN    ${id}

Create User
    [Documentation]    A Standard User with every field Salesforce requires on insert.
    [Arguments]    ${last_name}    ${email}    ${active}=${TRUE}    ${username}=${email}.local
    @{profiles}=    Salesforce Query    Profile    select=Id    Name=Standard User
    ${alias}=    Get Substring    ${last_name}${RUN}    0    8
    ${id}=    Salesforce Insert    User    LastName=${last_name}    Email=${email}    Username=${username}
    ...    Alias=${alias}    ProfileId=${profiles}[0][Id]    IsActive=${active}    TimeZoneSidKey=GMT
    ...    LocaleSidKey=en_US    EmailEncodingKey=UTF-8    LanguageLocaleKey=en_US
    # Users cannot be deleted (Salesforce deactivates them instead): keep them out of the teardown.
    Remove Session Record    User    ${id}
    RETURN    ${id}

Insert Booking Action
    [Documentation]    Insert one Booking Action (the Flows run on save) and return it as saved afterwards.
    [Arguments]    ${action}    ${uid}    &{fields}
    ${id}=    Salesforce Insert    Booking_Action__c    Action__c=${action}    Booking_Uid__c=${uid}    &{fields}
    ${record}=    Salesforce Get    Booking_Action__c    ${id}
    RETURN    ${record}

Book
    [Documentation]    A Created Booking Action for ${uid} at ${START}..${END}; fails unless it was Processed.
    [Arguments]    ${uid}    &{fields}
    ${action}=    Insert Booking Action    Created    ${uid}    Subject__c=Intro call ${uid}
    ...    Start__c=${START}    End__c=${END}    &{fields}
    Booking Action Should Be Processed    ${action}
    RETURN    ${action}

Booking Action Should Be Processed
    [Arguments]    ${action}
    Should Be Equal    ${action}[Status__c]    Processed    msg=${action}[Name]: ${action}[Error__c]
    Should Be Equal    ${action}[Error__c]    ${NONE}
    Should Not Be Equal    ${action}[Processed_At__c]    ${NONE}

Booking Action Should Have Failed
    [Arguments]    ${action}    ${error_part}
    Should Be Equal    ${action}[Status__c]    Failed
    Should Contain    ${action}[Error__c]    ${error_part}
    Should Be Equal    ${action}[Event_Id__c]    ${NONE}

Event For Booking
    [Documentation]    The one Event whose Booking_Uid__c is ${uid}.
    [Arguments]    ${uid}
    @{events}=    Salesforce Query    Event
    ...    select=Id, Subject, StartDateTime, EndDateTime, WhoId, WhatId, OwnerId, Location, Description, Booking_Uid__c, Meeting_Type__c, Meeting_Url__c, Router_Name__c, Meeting_Status__c, No_Show__c, Canceled__c
    ...    Booking_Uid__c=${uid}
    Length Should Be    ${events}    1    msg=Events with Booking_Uid__c ${uid}: ${events}
    RETURN    ${events}[0]

No Event Should Exist For Booking
    [Arguments]    ${uid}
    @{events}=    Salesforce Query    Event    Booking_Uid__c=${uid}
    Should Be Empty    ${events}

Invitees Of Event
    [Documentation]    The RelationIds of the Event's invitees (EventRelation, IsInvitee true), sorted.
    [Arguments]    ${event_id}
    @{relations}=    Salesforce Query    EventRelation    select=RelationId, IsInvitee    EventId=${event_id}
    ${ids}=    Create List
    FOR    ${relation}    IN    @{relations}
        Should Be True    ${relation}[IsInvitee]
        Append To List    ${ids}    ${relation}[RelationId]
    END
    Sort List    ${ids}
    RETURN    ${ids}

Event Invitees Should Be
    [Arguments]    ${event_id}    @{expected}
    ${invitees}=    Invitees Of Event    ${event_id}
    ${wanted}=    Create List    @{expected}
    Sort List    ${wanted}
    Lists Should Be Equal    ${invitees}    ${wanted}

Meeting Fields Of
    [Documentation]    The Meeting_* fields the Flows keep on a Lead or Contact.
    [Arguments]    ${sobject}    ${id}
    ${record}=    Salesforce Get    ${sobject}    ${id}
    RETURN    ${record}
