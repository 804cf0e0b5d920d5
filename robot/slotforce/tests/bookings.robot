*** Settings ***
Documentation     New bookings: a Created Booking Action becomes an Event with its invitees, and the
...               attendee's Lead or Contact shows the meeting (Flows Booking_Action_Created and
...               Event_Participants).
Resource          ../resources/Slotforce.robot
Suite Setup       Start A Run
Test Teardown     Delete Session Records
Test Tags         slotforce    bookings


*** Test Cases ***
Created Booking Becomes An Event For The Contact
    ${email}=    Email    ann
    ${contact}=    Create Contact    Ann    ${email}
    ${account}=    Salesforce Insert    Account    Name=Ann's Company ${RUN}
    ${uid}=    Uid    created
    ${action}=    Book    ${uid}    Who_Id__c=${contact}    What_Id__c=${account}
    ...    Location__c=Zoom    Description__c=Agenda: pricing    Meeting_Url__c=https://meet.example.com/${uid}
    ...    Meeting_Type__c=Discovery Call    Router_Name__c=Inbound router    Invitee_Email__c=${email}
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${action}[Event_Id__c]    ${event}[Id]
    Should Be Equal    ${event}[Subject]    Intro call ${uid}
    Should Be Equal    ${event}[StartDateTime]    ${START}
    Should Be Equal    ${event}[EndDateTime]    ${END}
    Should Be Equal    ${event}[WhoId]    ${contact}
    Should Be Equal    ${event}[WhatId]    ${account}
    Should Be Equal    ${event}[Location]    Zoom
    Should Be Equal    ${event}[Description]    Agenda: pricing
    Should Be Equal    ${event}[Meeting_Url__c]    https://meet.example.com/${uid}
    Should Be Equal    ${event}[Meeting_Type__c]    Discovery Call
    Should Be Equal    ${event}[Router_Name__c]    Inbound router
    Should Be Equal    ${event}[Meeting_Status__c]    Scheduled
    Should Not Be True    ${event}[Canceled__c]
    Should Be Equal    ${event}[OwnerId]    ${action}[OwnerId]
    ...    msg=without Owner_Id__c the Event belongs to whoever inserted the Booking Action

Created Booking Stamps The Contact's Meeting Fields
    ${email}=    Email    cleo
    ${contact}=    Create Contact    Cleo    ${email}
    ${uid}=    Uid    stamp-contact
    ${action}=    Book    ${uid}    Who_Id__c=${contact}    Meeting_Type__c=Demo    Router_Name__c=Website
    ${who}=    Meeting Fields Of    Contact    ${contact}
    Should Be Equal    ${who}[Meeting_Type__c]    Demo
    Should Be Equal    ${who}[Meeting_Date__c]    ${START}
    Should Be Equal    ${who}[Meeting_Status__c]    Scheduled
    Should Not Be True    ${who}[No_Show__c]
    Should Be Equal    ${who}[Router_Name__c]    Website
    # DateTimes are kept to the second, so the copied CreatedDate reads exactly the same.
    Should Be Equal    ${who}[Meeting_Created_At__c]    ${action}[CreatedDate]

Created Booking Stamps The Lead's Meeting Fields
    ${email}=    Email    lena
    ${lead}=    Create Lead    Lena    ${email}
    ${uid}=    Uid    stamp-lead
    Book    ${uid}    Who_Id__c=${lead}    Meeting_Type__c=Discovery Call
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[WhoId]    ${lead}
    ${who}=    Meeting Fields Of    Lead    ${lead}
    Should Be Equal    ${who}[Meeting_Type__c]    Discovery Call
    Should Be Equal    ${who}[Meeting_Date__c]    ${START}
    Should Be Equal    ${who}[Meeting_Status__c]    Scheduled

Event Owner Is The Resolved Owner
    ${email}=    Email    host
    ${user}=    Create User    Hostowner    ${email}
    ${uid}=    Uid    owned
    Book    ${uid}    Owner_Id__c=${user}
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[OwnerId]    ${user}

Guests And Co-Hosts Are Invited
    [Documentation]    Guests match Contacts first, then Leads; co-hosts match active Users; unknown
    ...    emails and inactive Users are left out.
    ${contact_email}=    Email    gus
    ${lead_email}=    Email    lou
    ${cohost_email}=    Email    cora
    ${former_email}=    Email    fred
    ${contact}=    Create Contact    Gus    ${contact_email}
    ${lead}=    Create Lead    Lou    ${lead_email}
    ${cohost}=    Create User    Cora    ${cohost_email}
    Create User    Fred    ${former_email}    active=${FALSE}
    ${stranger}=    Email    nobody
    ${uid}=    Uid    guests
    ${action}=    Insert Booking Action    Created    ${uid}    Subject__c=Intro call ${uid}
    ...    Start__c=${START}    End__c=${END}
    ...    Guest_Emails__c=${contact_email}\n${lead_email}\n${stranger}
    ...    Co_Host_Emails__c=${cohost_email}\n${former_email}
    Should Be Equal    ${action}[Status__c]    Processed
    Event Invitees Should Be    ${action}[Event_Id__c]    ${contact}    ${lead}    ${cohost}
    # Shared Activities relates 50 contacts or one lead: the lead is invited, not related, and the action says so
    Should Contain    ${action}[Error__c]    Not related: ${lead_email}

Guest Emails Match Whatever Their Case
    ${email}=    Email    casey
    ${contact}=    Create Contact    Casey    ${email}
    ${shouted}=    Convert To Upper Case    ${email}
    ${uid}=    Uid    case
    ${action}=    Book    ${uid}    Guest_Emails__c=${shouted}
    Event Invitees Should Be    ${action}[Event_Id__c]    ${contact}

A Long Meeting Type Is Cut To The Event Field's 75 Characters
    ${email}=    Email    longtype
    ${contact}=    Create Contact    Long    ${email}
    ${type}=    Evaluate    "Quarterly business review with the regional sales and customer success teams (EMEA)"
    ${uid}=    Uid    longtype
    Book    ${uid}    Who_Id__c=${contact}    Meeting_Type__c=${type}
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[Meeting_Type__c]    ${type}[:75]
    ${who}=    Meeting Fields Of    Contact    ${contact}
    Should Be Equal    ${who}[Meeting_Type__c]    ${type}

An Inactive Owner Fails The Booking Action With Salesforce's Reason
    ${email}=    Email    gone
    ${former}=    Create User    Gone    ${email}    active=${FALSE}
    ${uid}=    Uid    inactive-owner
    ${action}=    Insert Booking Action    Created    ${uid}    Subject__c=Owned by a former employee
    ...    Start__c=${START}    End__c=${END}    Owner_Id__c=${former}
    Booking Action Should Have Failed    ${action}    INACTIVE_OWNER_OR_USER
    No Event Should Exist For Booking    ${uid}

The Same Action Key Is Refused Twice
    [Documentation]    Action_Key__c is a unique external id: a redelivered change cannot be inserted twice.
    ${uid}=    Uid    dup
    Book    ${uid}    Action_Key__c=api:${uid}:Created:0
    Run Keyword And Expect Error    *DUPLICATE_VALUE*
    ...    Salesforce Insert    Booking_Action__c    Action__c=Created    Booking_Uid__c=${uid}
    ...    Action_Key__c=api:${uid}:Created:0
    @{events}=    Salesforce Query    Event    Booking_Uid__c=${uid}
    Length Should Be    ${events}    1

A Guest Who Is Both Contact And Lead Is Invited Once, As The Contact
    ${email}=    Email    both
    ${contact}=    Create Contact    Both    ${email}
    Create Lead    Both    ${email}
    ${uid}=    Uid    both
    ${action}=    Book    ${uid}    Guest_Emails__c=${email}
    Event Invitees Should Be    ${action}[Event_Id__c]    ${contact}

Created Again For The Same Booking Updates Its Event
    [Documentation]    Upsert-style: a second Created with the same Booking_Uid__c changes the Event,
    ...    it does not make a second one, and people already invited are not invited twice.
    ${email}=    Email    again
    ${guest}=    Create Contact    Again    ${email}
    ${uid}=    Uid    again
    ${first}=    Book    ${uid}    Guest_Emails__c=${email}
    ${second}=    Insert Booking Action    Created    ${uid}    Subject__c=Renamed call
    ...    Start__c=${NEW_START}    End__c=${NEW_END}    Guest_Emails__c=${email}
    Booking Action Should Be Processed    ${second}
    Should Be Equal    ${second}[Event_Id__c]    ${first}[Event_Id__c]
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[Subject]    Renamed call
    Should Be Equal    ${event}[StartDateTime]    ${NEW_START}
    Event Invitees Should Be    ${event}[Id]    ${guest}

Created Without A Booking Uid Is Skipped
    ${action}=    Insert Booking Action    Created    ${EMPTY}    Subject__c=No uid
    ...    Start__c=${START}    End__c=${END}
    Should Be Equal    ${action}[Status__c]    Skipped
    Should Contain    ${action}[Error__c]    Booking_Uid__c is blank
    Should Be Equal    ${action}[Event_Id__c]    ${NONE}

Many Bookings In One Collection Insert
    [Documentation]    Salesforce Collection Insert: one request, every Booking Action its own Event.
    ${email}=    Email    crowd
    ${guest}=    Create Contact    Crowd    ${email}
    @{actions}=    Generate Test Data    Booking_Action__c    20
    ...    Action__c=Created    Booking_Uid__c=bulk-{{number}}-${RUN}    Subject__c=Bulk {{number}}
    ...    Start__c=${START}    End__c=${END}    Guest_Emails__c=${email}
    Salesforce Collection Insert    ${actions}
    @{saved}=    Salesforce Query    Booking_Action__c    select=Id, Status__c, Event_Id__c, Booking_Uid__c
    ...    where=Booking_Uid__c LIKE 'bulk-%-${RUN}'
    Length Should Be    ${saved}    20
    FOR    ${action}    IN    @{saved}
        Should Be Equal    ${action}[Status__c]    Processed
        ${event}=    Event For Booking    ${action}[Booking_Uid__c]
        Should Be Equal    ${event}[Id]    ${action}[Event_Id__c]
    END
    @{relations}=    Salesforce Query    EventRelation    select=EventId    RelationId=${guest}
    Length Should Be    ${relations}    20
