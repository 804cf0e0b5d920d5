*** Settings ***
Documentation     Scheduling links: a Profile link goes on the User whose email it carries
...               (Flow Scheduling_Link_Map_User) and comes off when retired; other kinds are left alone.
Resource          ../resources/Slotforce.robot
Suite Setup       Start A Run
Test Teardown     Delete Session Records
Test Tags         slotforce    links


*** Test Cases ***
Profile Link Is Mapped To The Active User
    ${email}=    Email    paula
    ${user}=    Create User    Paula    ${email}
    ${link}=    Insert Link    paula    Profile    ${email}
    Should Be Equal    ${link}[Status__c]    Mapped
    Should Be Equal    ${link}[User__c]    ${user}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    https://cal.example.com/paula-${RUN}

The Email Matches Whatever Its Case
    ${email}=    Email    mixed
    ${user}=    Create User    Mixed    ${email}
    ${shouted}=    Convert To Upper Case    ${email}
    ${link}=    Insert Link    mixed    Profile    ${shouted}
    Should Be Equal    ${link}[Status__c]    Mapped
    Should Be Equal    ${link}[User__c]    ${user}

Profile Link Of An Unknown Or Inactive Person Is Unmatched
    ${stranger}=    Email    stranger
    ${link}=    Insert Link    stranger    Profile    ${stranger}
    Should Be Equal    ${link}[Status__c]    Unmatched
    Should Be Equal    ${link}[User__c]    ${NONE}
    ${former}=    Email    former
    ${user}=    Create User    Former    ${former}    active=${FALSE}
    ${link}=    Insert Link    former    Profile    ${former}
    Should Be Equal    ${link}[Status__c]    Unmatched
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    ${NONE}

A Changed Owner Email Maps The Link Again
    ${email}=    Email    second
    ${user}=    Create User    Second    ${email}
    ${link}=    Insert Link    moving    Profile    ${{None}}
    Should Be Equal    ${link}[Status__c]    Unmatched
    Salesforce Update    Scheduling_Link__c    ${link}[Id]    Owner_Email__c=${email}
    ${link}=    Salesforce Get    Scheduling_Link__c    ${link}[Id]
    Should Be Equal    ${link}[Status__c]    Mapped
    Should Be Equal    ${link}[User__c]    ${user}

A Changed Url Follows To The User
    ${email}=    Email    newurl
    ${user}=    Create User    Newurl    ${email}
    ${link}=    Insert Link    newurl    Profile    ${email}
    Salesforce Update    Scheduling_Link__c    ${link}[Id]    Url__c=https://cal.example.com/renamed-${RUN}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    https://cal.example.com/renamed-${RUN}
    ${link}=    Salesforce Get    Scheduling_Link__c    ${link}[Id]
    Should Be Equal    ${link}[Status__c]    Mapped

A Retired Link Comes Off Its User And Back On When Active Again
    ${email}=    Email    retired
    ${user}=    Create User    Retired    ${email}
    ${link}=    Insert Link    retired    Profile    ${email}
    Should Be Equal    ${link}[Status__c]    Mapped
    Salesforce Update    Scheduling_Link__c    ${link}[Id]    Active__c=${FALSE}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    ${NONE}
    ${retired}=    Salesforce Get    Scheduling_Link__c    ${link}[Id]
    Should Be Equal    ${retired}[Status__c]    Unmatched    msg=a retired link is on no User
    Should Be Equal    ${retired}[User__c]    ${NONE}
    Salesforce Update    Scheduling_Link__c    ${link}[Id]    Active__c=${TRUE}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    https://cal.example.com/retired-${RUN}
    ${back}=    Salesforce Get    Scheduling_Link__c    ${link}[Id]
    Should Be Equal    ${back}[Status__c]    Mapped

A Retired Link Leaves A Newer Link On The User
    ${email}=    Email    replaced
    ${user}=    Create User    Replaced    ${email}
    ${old}=    Insert Link    replaced-old    Profile    ${email}
    ${new}=    Insert Link    replaced-new    Profile    ${email}
    Salesforce Update    Scheduling_Link__c    ${old}[Id]    Active__c=${FALSE}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    https://cal.example.com/replaced-new-${RUN}
    ${retired}=    Salesforce Get    Scheduling_Link__c    ${old}[Id]
    Should Be Equal    ${retired}[Status__c]    Unmatched

Event Type Links Are Not Mapped
    ${email}=    Email    etype
    ${user}=    Create User    Etype    ${email}
    ${link}=    Insert Link    etype    Event_Type    ${email}
    Should Not Be Equal    ${link}[Status__c]    Mapped
    Should Be Equal    ${link}[User__c]    ${NONE}
    ${record}=    Salesforce Get    User    ${user}
    Should Be Equal    ${record}[Scheduling_Link__c]    ${NONE}

A Link Changed Into A Profile Link Is Mapped
    ${email}=    Email    kind
    ${user}=    Create User    Kind    ${email}
    ${link}=    Insert Link    kind    Event_Type    ${email}
    Salesforce Update    Scheduling_Link__c    ${link}[Id]    Kind__c=Profile
    ${link}=    Salesforce Get    Scheduling_Link__c    ${link}[Id]
    Should Be Equal    ${link}[Status__c]    Mapped
    Should Be Equal    ${link}[User__c]    ${user}

Two Users With One Email: The First Created Gets The Link
    ${email}=    Email    shared
    ${first}=    Create User    Shared    ${email}
    Sleep    1.1s    Salesforce keeps CreatedDate to the second: make "first" unambiguous
    ${second}=    Create User    Sharedtoo    ${email}    username=second.${email}.local
    ${link}=    Insert Link    shared    Profile    ${email}
    Should Be Equal    ${link}[User__c]    ${first}
    ${record}=    Salesforce Get    User    ${second}
    Should Be Equal    ${record}[Scheduling_Link__c]    ${NONE}

Links In One Collection Insert
    ${one}=    Email    one
    ${two}=    Email    two
    ${user_one}=    Create User    One    ${one}
    ${user_two}=    Create User    Two    ${two}
    ${nobody}=    Email    nobody
    @{links}=    Create List
    ...    ${{ {"attributes": {"type": "Scheduling_Link__c"}, "Link_Key__c": "c-1-" + $RUN, "Url__c": "https://cal.example.com/one", "Kind__c": "Profile", "Owner_Email__c": $one, "Active__c": True} }}
    ...    ${{ {"attributes": {"type": "Scheduling_Link__c"}, "Link_Key__c": "c-2-" + $RUN, "Url__c": "https://cal.example.com/two", "Kind__c": "Profile", "Owner_Email__c": $two, "Active__c": True} }}
    ...    ${{ {"attributes": {"type": "Scheduling_Link__c"}, "Link_Key__c": "c-3-" + $RUN, "Url__c": "https://cal.example.com/x", "Kind__c": "Profile", "Owner_Email__c": $nobody, "Active__c": True} }}
    Salesforce Collection Insert    ${links}
    @{saved}=    Salesforce Query    Scheduling_Link__c    select=Link_Key__c, Status__c, User__c
    ...    where=Link_Key__c LIKE 'c-%-${RUN}'    order_by=Link_Key__c
    Should Be Equal    ${saved}[0][User__c]    ${user_one}
    Should Be Equal    ${saved}[1][User__c]    ${user_two}
    Should Be Equal    ${saved}[2][Status__c]    Unmatched
    ${record}=    Salesforce Get    User    ${user_two}
    Should Be Equal    ${record}[Scheduling_Link__c]    https://cal.example.com/two


*** Keywords ***
Insert Link
    [Documentation]    Insert a Scheduling Link (the Flow runs on save); return it as saved afterwards.
    [Arguments]    ${name}    ${kind}    ${owner_email}
    ${id}=    Salesforce Insert    Scheduling_Link__c    Link_Key__c=${name}-${RUN}
    ...    Url__c=https://cal.example.com/${name}-${RUN}    Kind__c=${kind}    Owner_Email__c=${owner_email}
    ...    Active__c=${TRUE}
    ${link}=    Salesforce Get    Scheduling_Link__c    ${id}
    RETURN    ${link}
