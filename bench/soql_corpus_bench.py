"""SOQL yardstick: real-world queries (tests/localorg/soql/corpus/) against a local org with the package deployed.

Each query goes over HTTPS through simple-salesforce and is classified:

- answered: 200 (and not in WRONG, the answers checked by hand to differ from Salesforce's);
- refused clearly: a Salesforce-shaped 4xx that is what Salesforce would say, or names what the
  local org does not do: UNSUPPORTED_BY_LOCAL_ORG; INVALID_TYPE / INVALID_FIELD for objects and
  fields the org does not have (managed packages, other clouds); MALFORMED_QUERY and the other
  query errors for SOQL that Salesforce refuses too (INVALID_IN_SALESFORCE, checked by hand);
- refused unclearly: any other 4xx (valid SOQL refused with an error Salesforce would not give);
- wrong: WRONG; crashed: a 5xx, or a body that is not Salesforce's error list.

`python -m bench soql_corpus` prints the counts and the most common refusals; the test
(tests/localorg/soql/test_corpus.py) holds them to BASELINE.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "localorg" / "soql" / "corpus" / "queries.soql"
# The counts this corpus reached; the test fails when a change makes them worse.
BASELINE = {"answered": 126, "refused clearly": 82, "refused unclearly": 0, "wrong": 0, "crashed": 0}

# Queries Salesforce itself refuses (by hand, with the SOQL and SOSL Reference): a refusal is the
# right answer, so it counts as clear.
_SINGLE_CURRENCY = ("convertCurrency() and ISO code values \"require that the org has multiple currencies "
                    "enabled\" (Querying Currency Fields in Multi-Currency Orgs); the local org is single-currency")
INVALID_IN_SALESFORCE: dict[str, str] = {
    "SELECT amount, FORMAT(amount) Amt, convertCurrency(amount) editDate, FORMAT(convertCurrency(amount)) "
    "convertedCurrency FROM Opportunity where id = '12345'": _SINGLE_CURRENCY,
    "SELECT Id, Name FROM Opportunity WHERE Amount > USD5000": _SINGLE_CURRENCY,
    "SELECT Id, Name FROM Opportunity WHERE (((((Amount > USD5000)))))": _SINGLE_CURRENCY,
    "SELECT Name, MAX(Amount) FROM Opportunity GROUP BY Name HAVING MAX(Amount) > USD10000":
        "\"You can't use ISO_CODEvalue ... when you use an aggregate function\" (same page), and single-currency",
    "SELECT FIELDS(ALL) FROM Contact": "FIELDS(ALL) needs LIMIT 200 or less over the API (FIELDS() in the SOQL reference)",
}
# Answers checked by hand to differ from what Salesforce answers.
WRONG: dict[str, str] = {}
CLEAR_CODES = frozenset({"UNSUPPORTED_BY_LOCAL_ORG", "INVALID_TYPE", "INVALID_FIELD", "INSUFFICIENT_ACCESS"})


@dataclass(frozen=True)
class Entry:
    soql: str
    source: str  # repository, path and commit the query comes from


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    status: int
    code: str | None
    message: str
    verdict: str


def load(path: Path = CORPUS) -> list[Entry]:
    """The corpus: `# source: repo path @commit` lines, then one query per line."""
    entries, source = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# source:"):
            source = line[len("# source:"):].strip()
        elif line.strip() and not line.startswith("#"):
            entries.append(Entry(line.strip(), source))
    return entries


def classify(entry: Entry, status: int, body) -> Outcome:
    errors = body if isinstance(body, list) else None
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code, message = first.get("errorCode"), str(first.get("message", ""))
    if status == 200:
        verdict = "wrong" if entry.soql in WRONG else "answered"
    elif status >= 500 or not (400 <= status < 500) or not code:
        verdict = "crashed"
    elif code in CLEAR_CODES or entry.soql in INVALID_IN_SALESFORCE:
        verdict = "refused clearly"
    else:
        verdict = "refused unclearly"
    return Outcome(entry, status, code, message, verdict)


def seed(sf) -> None:
    """A few records the corpus's queries find (so answers are shaped from rows, not only empty lists)."""
    acme = sf.Account.create({"Name": "Acme", "Industry": "Energy", "Type": "Customer", "ShippingState": "KS",
                              "ShippingCountry": "US", "NumberOfEmployees": 50, "AnnualRevenue": 44000})["id"]
    sf.Account.create({"Name": "Globex", "Industry": "Energy", "ParentId": acme, "NumberOfEmployees": 5})
    sf.Account.create({"Name": "Texas", "Industry": "Software", "ShippingState": "Tx"})
    jane = sf.Contact.create({"FirstName": "Jane", "LastName": "Doe", "Email": "foo@bar.com", "AccountId": acme,
                              "Title": "Awesome"})["id"]
    sf.Contact.create({"FirstName": "Sofia", "LastName": "Rodriguez", "AccountId": acme})
    sf.Lead.create({"LastName": "Lee", "Company": "LeadCo", "Status": "Open - Not Contacted", "LeadSource": "Web"})
    sf.Lead.create({"LastName": "Ray", "Company": "RayCo", "LeadSource": "Web", "Email": "ray@example.com"})
    sf.Opportunity.create({"Name": "Big", "AccountId": acme, "StageName": "Closed Lost", "CloseDate": "2024-01-15",
                           "Amount": 1000})
    sf.Opportunity.create({"Name": "Small", "AccountId": acme, "StageName": "Prospecting", "CloseDate": "2030-01-15",
                           "Amount": 10})
    sf.Event.create({"Subject": "Intro", "WhoId": jane, "WhatId": acme, "DurationInMinutes": 30,
                     "ActivityDateTime": "2024-05-15T10:00:00.000+0000"})
    sf.Task.create({"Subject": "Call", "WhoId": jane, "WhatId": acme, "ActivityDate": "2024-05-15"})


def run(sf) -> list[Outcome]:
    """Each corpus query through `sf` (a simple_salesforce.Salesforce), classified."""
    from simple_salesforce.exceptions import SalesforceError

    outcomes = []
    for entry in load():
        try:
            sf.query(entry.soql)
            outcomes.append(classify(entry, 200, None))
        except SalesforceError as e:
            outcomes.append(classify(entry, e.status, e.content))
    return outcomes


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    found = collections.Counter(o.verdict for o in outcomes)
    return {verdict: found.get(verdict, 0) for verdict in BASELINE}


def reason(outcome: Outcome) -> str:
    """A refusal's gist: its code and its message's last line with names and values blanked."""
    last = outcome.message.strip().splitlines()[-1] if outcome.message.strip() else ""
    last = re.sub(r"'[\w.%]*'", "'…'", last)
    last = re.sub(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b(:\d+)?|\b[A-Z]{3}\d+\b", "…", last)  # date literals, USD5000
    return f"{outcome.code}: {last[:110]}"


def report(outcomes: list[Outcome], top: int = 15) -> str:
    lines = [f"{len(outcomes)} queries: " + ", ".join(f"{v} {n}" for v, n in counts(outcomes).items())]
    refusals = collections.Counter(reason(o) for o in outcomes if o.verdict.startswith("refused"))
    lines.append("most common refusals:")
    lines += [f"  {n:3d}  {r}" for r, n in refusals.most_common(top)]
    unclear = [o for o in outcomes if o.verdict in ("refused unclearly", "crashed", "wrong")]
    if unclear:
        lines.append("refused unclearly / crashed / wrong:")
        lines += [f"  {o.verdict}: {o.entry.soql[:100]}  ->  {reason(o)}" for o in unclear]
    return "\n".join(lines)


def main() -> None:
    from slotforce.localorg.server import LocalOrg
    from slotforce.package import deploy

    with LocalOrg() as org:
        sf = org.client()
        deploy(sf)
        seed(sf)
        print(report(run(sf)))
        sf.session.close()


if __name__ == "__main__":
    main()
