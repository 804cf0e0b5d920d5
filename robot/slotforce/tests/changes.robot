*** Settings ***
Documentation     Changes to a booking: reschedule, cancel, no-show, completed (Flow Booking_Action_Changed).
...               Each test books first, then inserts the change and checks the Event and the attendee.
Resource          ../resources/Slotforce.robot
Suite Setup       Start A Run
Test Teardown     Delete Session Records
Test Tags         slotforce    changes


*** Test Cases ***
Reschedule Moves The Event
    ${contact}    ${uid}=    Booked Contact    moved
    ${change}=    Insert Booking Action    Rescheduled    ${uid}    Start__c=${NEW_START}    End__c=${NEW_END}
    Booking Action Should Be Processed    ${change}
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${change}[Event_Id__c]    ${event}[Id]
    Should Be Equal    ${event}[StartDateTime]    ${NEW_START}
    Should Be Equal    ${event}[EndDateTime]    ${NEW_END}
    Should Be Equal    ${event}[Meeting_Status__c]    Rescheduled
    Who Should Show    Contact    ${contact}    Rescheduled    meeting_date=${NEW_START}

Reschedule With A New Uid Finds The Event By The Previous Uid
    [Documentation]    Cal.com and Calendly give a rescheduled booking a new uid; the Event takes it.
    ${lead}=    Create Lead    Rita    ${{None}}
    ${old_uid}=    Uid    before
    ${new_uid}=    Uid    after
    ${booked}=    Book    ${old_uid}    Who_Id__c=${lead}
    ${change}=    Insert Booking Action    Rescheduled    ${new_uid}    Previous_Booking_Uid__c=${old_uid}
    ...    Start__c=${NEW_START}    End__c=${NEW_END}
    Booking Action Should Be Processed    ${change}
    No Event Should Exist For Booking    ${old_uid}
    ${event}=    Event For Booking    ${new_uid}
    Should Be Equal    ${event}[Id]    ${booked}[Event_Id__c]
    Should Be Equal    ${event}[StartDateTime]    ${NEW_START}
    Should Be Equal    ${event}[Meeting_Status__c]    Rescheduled
    Who Should Show    Lead    ${lead}    Rescheduled    meeting_date=${NEW_START}

Cancel In Delete Mode Deletes The Event
    ${contact}    ${uid}=    Booked Contact    gone
    ${change}=    Insert Booking Action    Canceled    ${uid}    Cancel_Mode__c=Delete
    ...    Cancel_Reason__c=Found another slot
    Booking Action Should Be Processed    ${change}
    No Event Should Exist For Booking    ${uid}
    Who Should Show    Contact    ${contact}    Canceled

Cancel In Keep Mode Marks The Event Canceled
    ${contact}    ${uid}=    Booked Contact    kept
    ${change}=    Insert Booking Action    Canceled    ${uid}    Cancel_Mode__c=Keep
    Booking Action Should Be Processed    ${change}
    ${event}=    Event For Booking    ${uid}
    Should Be True    ${event}[Canceled__c]
    Should Be Equal    ${event}[Meeting_Status__c]    Canceled
    Who Should Show    Contact    ${contact}    Canceled

Cancel Without A Mode Keeps The Event
    ${contact}    ${uid}=    Booked Contact    nomode
    ${change}=    Insert Booking Action    Canceled    ${uid}
    Booking Action Should Be Processed    ${change}
    ${event}=    Event For Booking    ${uid}
    Should Be True    ${event}[Canceled__c]

No-Show Is Set, Then Cleared
    ${contact}    ${uid}=    Booked Contact    noshow
    ${set}=    Insert Booking Action    No_Show    ${uid}
    Booking Action Should Be Processed    ${set}
    ${event}=    Event For Booking    ${uid}
    Should Be True    ${event}[No_Show__c]
    Should Be Equal    ${event}[Meeting_Status__c]    No Show
    Who Should Show    Contact    ${contact}    No Show    no_show=${TRUE}
    ${cleared}=    Insert Booking Action    No_Show_Cleared    ${uid}
    Booking Action Should Be Processed    ${cleared}
    ${event}=    Event For Booking    ${uid}
    Should Not Be True    ${event}[No_Show__c]
    Should Be Equal    ${event}[Meeting_Status__c]    Completed
    Who Should Show    Contact    ${contact}    Completed    no_show=${FALSE}

Completed Marks The Meeting Completed
    ${lead}=    Create Lead    Carl    ${{None}}
    ${uid}=    Uid    done
    Book    ${uid}    Who_Id__c=${lead}
    ${change}=    Insert Booking Action    Completed    ${uid}
    Booking Action Should Be Processed    ${change}
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[Meeting_Status__c]    Completed
    Who Should Show    Lead    ${lead}    Completed

A Change For An Unknown Booking Fails With The Reason
    ${uid}=    Uid    unknown
    ${previous}=    Uid    also-unknown
    ${change}=    Insert Booking Action    Canceled    ${uid}    Previous_Booking_Uid__c=${previous}
    ...    Cancel_Mode__c=Delete
    Booking Action Should Have Failed    ${change}    ${uid}
    Should Contain    ${change}[Error__c]    ${previous}
    ${change}=    Insert Booking Action    No_Show    ${uid}
    Booking Action Should Have Failed    ${change}    No Event with Booking_Uid__c ${uid}

A Change After The Event Was Deleted Fails
    ${contact}    ${uid}=    Booked Contact    late
    ${cancel}=    Insert Booking Action    Canceled    ${uid}    Cancel_Mode__c=Delete
    Booking Action Should Be Processed    ${cancel}
    ${late}=    Insert Booking Action    No_Show    ${uid}
    Booking Action Should Have Failed    ${late}    ${uid}
    Who Should Show    Contact    ${contact}    Canceled

An Event Deleted By Hand Cannot Be Changed
    ${contact}    ${uid}=    Booked Contact    byhand
    ${event}=    Event For Booking    ${uid}
    Salesforce Delete    Event    ${event}[Id]
    ${change}=    Insert Booking Action    Rescheduled    ${uid}    Start__c=${NEW_START}    End__c=${NEW_END}
    Booking Action Should Have Failed    ${change}    No Event with Booking_Uid__c ${uid}
    Who Should Show    Contact    ${contact}    Scheduled    meeting_date=${START}

Deleting A Booking Action Leaves Its Event
    [Documentation]    Booking Actions are a log of changes; the Event is the meeting and stays.
    ${contact}    ${uid}=    Booked Contact    keepevent
    @{actions}=    Salesforce Query    Booking_Action__c    Booking_Uid__c=${uid}
    Salesforce Delete    Booking_Action__c    ${actions}[0][Id]
    ${event}=    Event For Booking    ${uid}
    Should Be Equal    ${event}[WhoId]    ${contact}

A Change Without A Booking Uid Is Skipped
    ${change}=    Insert Booking Action    Completed    ${EMPTY}
    Should Be Equal    ${change}[Status__c]    Skipped
    Should Contain    ${change}[Error__c]    Booking_Uid__c is blank

Changes In One Collection Insert
    [Documentation]    A mixed batch in one request: each Booking Action finds its own Event.
    @{uids}=    Create List
    FOR    ${n}    IN RANGE    4
        ${uid}=    Uid    batch-${n}
        Book    ${uid}
        Append To List    ${uids}    ${uid}
    END
    ${unknown}=    Uid    batch-missing
    @{changes}=    Create List
    ...    ${{ {"attributes": {"type": "Booking_Action__c"}, "Action__c": "Rescheduled", "Booking_Uid__c": $uids[0], "Start__c": $NEW_START, "End__c": $NEW_END} }}
    ...    ${{ {"attributes": {"type": "Booking_Action__c"}, "Action__c": "Canceled", "Booking_Uid__c": $uids[1], "Cancel_Mode__c": "Delete"} }}
    ...    ${{ {"attributes": {"type": "Booking_Action__c"}, "Action__c": "No_Show", "Booking_Uid__c": $uids[2]} }}
    ...    ${{ {"attributes": {"type": "Booking_Action__c"}, "Action__c": "Completed", "Booking_Uid__c": $uids[3]} }}
    ...    ${{ {"attributes": {"type": "Booking_Action__c"}, "Action__c": "Completed", "Booking_Uid__c": $unknown} }}
    @{saved}=    Salesforce Collection Insert    ${changes}
    @{statuses}=    Create List
    FOR    ${change}    IN    @{saved}
        ${record}=    Salesforce Get    Booking_Action__c    ${change}[id]
        Append To List    ${statuses}    ${record}[Status__c]
    END
    ${expected}=    Create List    Processed    Processed    Processed    Processed    Failed
    Lists Should Be Equal    ${statuses}    ${expected}
    ${moved}=    Event For Booking    ${uids}[0]
    Should Be Equal    ${moved}[StartDateTime]    ${NEW_START}
    No Event Should Exist For Booking    ${uids}[1]
    ${noshow}=    Event For Booking    ${uids}[2]
    Should Be True    ${noshow}[No_Show__c]
    ${done}=    Event For Booking    ${uids}[3]
    Should Be Equal    ${done}[Meeting_Status__c]    Completed


*** Keywords ***
Booked Contact
    [Documentation]    A Contact with a booked meeting; returns the Contact id and the booking uid.
    [Arguments]    ${name}
    ${email}=    Email    ${name}
    ${contact}=    Create Contact    ${name}    ${email}
    ${uid}=    Uid    ${name}
    Book    ${uid}    Who_Id__c=${contact}
    RETURN    ${contact}    ${uid}

Who Should Show
    [Documentation]    The Lead/Contact mirrors the Event: status, no-show flag, meeting date.
    [Arguments]    ${sobject}    ${id}    ${status}    ${no_show}=${NONE}    ${meeting_date}=${NONE}
    ${who}=    Meeting Fields Of    ${sobject}    ${id}
    Should Be Equal    ${who}[Meeting_Status__c]    ${status}
    IF    $no_show is not None
        Should Be Equal    ${who}[No_Show__c]    ${no_show}
    END
    IF    $meeting_date is not None
        Should Be Equal    ${who}[Meeting_Date__c]    ${meeting_date}
    END
