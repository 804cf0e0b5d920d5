"""Salesforce error shapes the gateway reads (bodies as Salesforce sends them)."""

from slotforce.sync.write_round import rejected_fields
from slotforce.sync.gateway import ApiError, SubResult, errors_from, is_transient

DUPLICATE = {
    "statusCode": "DUPLICATES_DETECTED",
    "message": "Use one of these records?",
    "fields": [],
    "duplicateResult": {
        "allowSave": False, "duplicateRule": "Standard_Lead_Duplicate_Rule", "duplicateRuleEntityType": "Lead",
        "errorMessage": "You're creating a duplicate lead.",
        "matchResults": [{"entityType": "Lead", "matchEngine": "FuzzyMatchEngine", "size": 1, "success": True,
                          "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                                            "record": {"attributes": {"type": "Lead"}, "Id": "00Q5g000001AbCdEAK"}}]}],
    },
}


def test_duplicates_detected_yields_the_matched_record():
    [err] = SubResult("p0", 400, [DUPLICATE]).errors
    assert err.code == "DUPLICATES_DETECTED" and err.duplicate_ids == ("00Q5g000001AbCdEAK",)


def test_collection_items_and_whole_subrequest_failures():
    ok = SubResult("actions", 200, [{"id": "a001", "success": True, "errors": []},
                                    {"success": False, "errors": [{"statusCode": "STRING_TOO_LONG", "message": "Notes__c: data value too large: x (max length=20)", "fields": ["Notes__c"]}]}])
    first, second = ok.items()
    assert first.success and first.id == "a001"
    assert not second.success and second.errors[0].fields == ("Notes__c",)
    failed = SubResult("actions", 400, [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified."}])
    [item] = failed.items()
    assert not item.success and item.errors[0].code == "PROCESSING_HALTED"


def test_rejected_fields_from_messages():
    assert rejected_fields(ApiError("INVALID_FIELD", "No such column 'Ghost__c' on sobject of type Lead")) == {"Ghost__c"}
    assert rejected_fields(ApiError("STRING_TOO_LONG", "Title: data value too large: xxx (max length=128)")) == {"Title"}


def test_transient_or_permanent():
    assert is_transient("UNABLE_TO_LOCK_ROW") and is_transient("REQUEST_LIMIT_EXCEEDED", 403)
    assert is_transient(None, 503) and is_transient(None, 401)
    assert not is_transient("REQUIRED_FIELD_MISSING", 400) and not is_transient("INVALID_FIELD", 400)
    assert errors_from({"message": "x", "errorCode": "NOT_FOUND"})[0].code == "NOT_FOUND"


def test_duplicates_detected_reuses_the_matched_record_for_the_booking():
    from slotforce.sync.plan import BookingPlan
    from slotforce.sync.resolve import NewRecord
    from slotforce.sync.write_round import PersonResult, Wave

    from .factories import booking

    new = NewRecord("Lead", "pat@acme.com", {"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})
    plan = BookingPlan(booking(), "default", False, new_records=[new], who_new=new.key)
    wave = Wave({})
    what = wave.person_result(new.key, None, SubResult("p0", 400, [DUPLICATE]).errors, [plan], new, {})
    assert what is PersonResult.REUSED and wave.created[new.key] == "00Q5g000001AbCdEAK" and wave.person_errors == {}
    assert plan.trace.steps("duplicate_record_reused")[0].detail["recordId"] == "00Q5g000001AbCdEAK"
    required = [ApiError("REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", ("Company",))]
    fresh = Wave({})
    assert fresh.person_result(new.key, None, required, [plan], new, {}) is PersonResult.FAILED  # never dropped
    assert fresh.person_errors[new.key].code == "REQUIRED_FIELD_MISSING"
