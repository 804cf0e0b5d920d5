"""The real-world SOQL yardstick (corpus/queries.soql, sources in corpus/SOURCES) against the deployed package.

A few records are saved first (yardstick.seed) so answers are shaped from rows. Every query
answers 200 or a Salesforce-shaped 4xx, never a 5xx; the counts per verdict
(bench/soql_corpus_bench.py) are no worse than BASELINE: no fewer answered or clearly refused,
no more refused unclearly, wrong or crashed.
"""

from __future__ import annotations

from bench import soql_corpus_bench as yardstick


def test_corpus_is_the_one_documented():
    entries = yardstick.load()
    assert len({e.soql for e in entries}) >= 200
    assert all(e.source for e in entries), "every query names the repository and file it comes from"
    sources = (yardstick.CORPUS.parent / "SOURCES").read_text()
    for source in {e.source.split(" @")[0].split(" (")[0] for e in entries}:
        assert source in sources, f"{source} is not listed in corpus/SOURCES"


def test_every_query_answers_rows_or_a_salesforce_error_no_worse_than_the_baseline(packaged_org):
    packaged_org.reset()
    sf = packaged_org.client()
    yardstick.seed(sf)
    outcomes = yardstick.run(sf)
    sf.session.close()
    assert [o for o in outcomes if o.verdict == "crashed"] == []
    assert all(o.status == 200 or (400 <= o.status < 500 and o.code and o.message) for o in outcomes)
    got = yardstick.counts(outcomes)
    base = yardstick.BASELINE
    assert got["answered"] >= base["answered"], yardstick.report(outcomes)
    assert got["answered"] + got["refused clearly"] >= base["answered"] + base["refused clearly"], \
        yardstick.report(outcomes)
    for worse in ("refused unclearly", "wrong", "crashed"):
        assert got[worse] <= base[worse], yardstick.report(outcomes)


def test_classification_rules():
    entry = yardstick.Entry("SELECT Id FROM Foo__c", "x")
    assert yardstick.classify(entry, 200, None).verdict == "answered"
    assert yardstick.classify(entry, 400, [{"message": "m", "errorCode": "INVALID_TYPE"}]).verdict == "refused clearly"
    assert yardstick.classify(entry, 400, [{"message": "m", "errorCode": "MALFORMED_QUERY"}]).verdict == \
        "refused unclearly"
    assert yardstick.classify(entry, 500, [{"message": "m", "errorCode": "UNKNOWN_EXCEPTION"}]).verdict == "crashed"
    assert yardstick.classify(entry, 400, "not json").verdict == "crashed"
