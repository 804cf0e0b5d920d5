"""`Email LIKE '%suffix'` through the email domain index answers exactly what the plain LIKE answers:
case-insensitive, `_` and `%` wildcards, escaped `\\_` / `\\%`, NOT, nulls (issue 11.7)."""

import re

from hypothesis import given, settings, strategies as st

from slotforce.localorg.soql.compiler import suffix_domain

EMAILS = ["jane@acme.com", "JOHN@ACME.com", "x@acme.com.au", "y@sub.acme.com", "o%_@x.com", "a_b@x_y.com",
          "n@x.com", "nn@X.COM", "ann@acme.co", "acme.com@other.org", None]


def _load(org, emails):
    ids = {}
    for i, email in enumerate(emails):
        ids[org.insert("Contact", LastName=f"C{i}", Name=f"C{i}", Email=email)] = email
    org.insert("Contact", LastName="Gone", Name="Gone", Email="gone@acme.com", IsDeleted=1)
    return ids


def _plain(org, pattern, negate=False):
    """The same filter as SQLite's own LIKE over every row, no index (the reference); SOQL logic is
    two-valued, so NOT LIKE holds for a null Email (logic.py: `NOT COALESCE(p, 0)`)."""
    cond = f"{'NOT ' if negate else ''}COALESCE(Email LIKE ? ESCAPE '\\', 0)"
    return {r[0] for r in org.conn.execute(f'SELECT Id FROM "Contact" WHERE IsDeleted = 0 AND {cond}', (pattern,))}


def _soql(org, literal, negate=False):
    where = f"NOT Email LIKE '{literal}'" if negate else f"Email LIKE '{literal}'"
    return {r["Id"] for r in org.records(f"SELECT Id FROM Contact WHERE {where}")}


def test_suffix_domain_reads_only_a_leading_wildcard_then_text_with_an_at():
    assert suffix_domain("%@acme.com") == "@acme.com"
    assert suffix_domain("%%jane@acme.com") == "@acme.com"
    assert suffix_domain("%\\_@x.com") == "@x.com"
    assert suffix_domain("%@x\\_y.com") == "@x_y.com"
    assert suffix_domain("%@x_y.com") is None and suffix_domain("%@acme%") is None
    assert suffix_domain("jane@acme.com") is None and suffix_domain("%.com") is None


def test_suffix_matches_are_the_plain_like_answers(org):
    ids = _load(org, EMAILS)
    cases = {"%@acme.com": {"jane@acme.com", "JOHN@ACME.com"}, "%@ACME.COM": {"jane@acme.com", "JOHN@ACME.com"},
             "%n@acme.com": {"JOHN@ACME.com"}, "%e@acme.com": {"jane@acme.com"}, "%@x.com": {"o%_@x.com", "n@x.com",
                                                                                       "nn@X.COM"},
             "%\\_@x.com": {"o%_@x.com"}, "%\\%\\_@x.com": {"o%_@x.com"}, "%@x_y.com": {"a_b@x_y.com"},
             "%b@x\\_y.com": {"a_b@x_y.com"}, "%@nowhere.com": set(), "%@other.org": {"acme.com@other.org"},
             "%a@b@c": set()}
    for literal, expected in cases.items():
        got = _soql(org, literal)
        assert {ids[i] for i in got} == expected, literal
        assert got == _plain(org, literal), literal
        assert _soql(org, literal, negate=True) == _plain(org, literal, negate=True), literal


_email = st.builds(lambda local, domain: f"{local}@{domain}", st.text("aA_%.x", min_size=1, max_size=4),
                   st.text("bB_%.y", min_size=1, max_size=4))
_suffix = st.builds(lambda head, domain: f"{head}@{domain}", st.text("aA.x_%", max_size=2),
                    st.text("bB.y_%", min_size=0, max_size=4))


@settings(max_examples=80, deadline=None)
@given(st.lists(_email, min_size=1, max_size=12), _suffix, st.booleans())
def test_any_at_suffix_answers_as_the_plain_like(emails, suffix, escaped):
    """Escaped, `%` and `_` in the suffix are literal (index path); unescaped, wildcards (plain LIKE)."""
    from tests.localorg.soql.conftest import Org

    org = Org()
    _load(org, emails)
    literal = "%" + (re.sub(r"([%_])", r"\\\1", suffix) if escaped else suffix)
    assert _soql(org, literal) == _plain(org, literal)
    assert _soql(org, literal, negate=True) == _plain(org, literal, negate=True)


def test_an_org_made_before_the_domain_index_gets_it_when_opened(tmp_path):
    from slotforce.localorg.models import Org as LocalOrgModel

    path = str(tmp_path / "org.db")
    first = LocalOrgModel(path)
    first.conn.execute('DROP INDEX "ix_Contact_Email_domain"')
    first.conn.close()
    again = LocalOrgModel(path)
    names = {r[0] for r in again.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_Contact_Email_domain", "ix_Lead_Email_domain", "ix_User_Email_domain"} <= names
    assert again.password and again.password == LocalOrgModel(path).password  # kept with the org
