"""`slotforce demo`: the whole path on a fresh local org, start to finish, read back as tables.

Build and validate the package; start the local org; deploy with unmodified CumulusCI; seed a few
records; start `slotforce serve`; post signed Cal.com, Calendly and api webhooks; sync scheduling links;
then print what landed in Salesforce (read back with SOQL) and one routing trace, and stop
everything. A repository command: it runs in the checkout it is started from (found by
slotforce.project), whose force-app it builds and deploys with the checkout's cumulusci.yml, and
whose examples/demo/ (config, seed records, links) and tests/fixtures/webhooks/ (the sample
payloads) are its inputs.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
import requests
import yaml
from rich.console import Console
from rich.table import Table

from slotforce.cci import cci_env
from slotforce.project import ProjectNotFound, find_root

EXAMPLE = Path("examples") / "demo"  # the demo's inputs, below the repository root
WEBHOOKS = Path("tests") / "fixtures" / "webhooks"
# Webhook secrets of the demo only: the service reads them from these variables.
SECRETS = {"CALCOM_WEBHOOK_SECRET": "demo-calcom-secret", "CALENDLY_SIGNING_KEY": "demo-calendly-key",
           "SLOTFORCE_API_SECRET": "demo-api-secret"}

# Wide enough for the tables when the output is a log, not a terminal.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)


class DemoError(click.ClickException):
    """A demo step failed; the message says which and where its log is."""


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def repository() -> Path:
    """The checkout the demo runs in: the current project, if it has the demo's inputs."""
    try:
        root = find_root()
    except ProjectNotFound as error:
        raise DemoError(f"slotforce demo runs in a checkout of the slotforce repository; {error}") from None
    if not (root / EXAMPLE).is_dir():
        raise DemoError(f"slotforce demo runs in a checkout of the slotforce repository; {root} has no {EXAMPLE}")
    return root


def run(cmd: list[str], env: dict[str, str], log: Path, what: str, root: Path) -> None:
    """Run a command in `root` to completion, its output in `log`; fail the demo with the log's tail."""
    with log.open("w") as out:
        done = subprocess.run(cmd, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise DemoError(f"{what} failed (exit {done.returncode}); last lines of {log}:\n{tail}")


def tool_env(work: Path) -> dict[str, str]:
    """The environment for child commands: project tools on PATH, CumulusCI kept inside `work`."""
    return dict(cci_env(work / "home"), COLUMNS="150", **SECRETS)


def build_package(root: Path) -> None:
    from slotforce.package import build, validate

    step("1. The package: generated from the model, validated against the Metadata API XSD")
    report = build(root / "force-app")
    problems = validate(root / "force-app")
    if problems:
        raise DemoError("force-app is not valid:\n" + "\n".join(map(str, problems)))
    table = Table("object", "kind", "fields", title="Objects and fields", title_justify="left")
    for name, kind, count in report.objects:
        table.add_row(name, kind, str(count))
    console.print(table)
    console.print(f"permission sets: {', '.join(p[0] for p in report.permission_sets)}; "
                  f"flows: {', '.join(f[0] for f in report.flows)}; {len(report.files)} files, all XSD-valid")


def deploy(org, env: dict[str, str], work: Path, root: Path) -> None:
    step("2. Deploy with CumulusCI: cci flow run deploy_package --org local")
    env = dict(env, **org.env_exports())  # what `slotforce org env` exports
    started = time.monotonic()
    run([str(Path(sys.executable).parent / "cci"), "flow", "run", "deploy_package", "--org", "local"],
        env, work / "cci-deploy.log", "cci flow run deploy_package", root)
    console.print(f"deployed force-app and assigned Slotforce_Integration in {time.monotonic() - started:.1f} s "
                  f"(log: {work / 'cci-deploy.log'})")


def seed(sf, seed_data: dict) -> None:
    step("3. Seed the org: hosts as Users, an Account with Contacts")
    profile = sf.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")["records"][0]["Id"]
    for user in seed_data["users"]:
        sf.User.create({**user, "ProfileId": profile, "TimeZoneSidKey": "America/New_York",
                        "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"})
    for account in seed_data["accounts"]:
        contacts = account.pop("contacts", [])
        account_id = sf.Account.create(account)["id"]
        for contact in contacts:
            sf.Contact.create({**contact, "AccountId": account_id})
    console.print(f"{len(seed_data['users'])} users, {len(seed_data['accounts'])} account(s) with contacts")


@contextmanager
def service(config: Path, env: dict[str, str], work: Path, root: Path):
    """`slotforce serve` in a subprocess; stopped with SIGTERM (its graceful shutdown) on exit."""
    port = free_port()
    log = (work / "serve.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "slotforce"), "serve", "--config", str(config),
                             "--port", str(port)], env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise DemoError(f"slotforce serve did not start; see {work / 'serve.log'}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def post_webhooks(url: str, files: list[str], webhooks: Path) -> None:
    from slotforce.sources import sign_api, sign_calcom, sign_calendly

    # Each source signs as it does in production (Calendly and our api: timestamped, so sign at send time).
    signers = {"calcom": lambda body: sign_calcom(SECRETS["CALCOM_WEBHOOK_SECRET"], body),
               "calendly": lambda body: sign_calendly(SECRETS["CALENDLY_SIGNING_KEY"], body),
               "api": lambda body: sign_api(SECRETS["SLOTFORCE_API_SECRET"], body)}
    step("4. Post signed webhooks to slotforce serve")
    table = Table("webhook", "source", "answer", title_justify="left")
    for name in files:
        source = name.split("/")[0]
        body = (webhooks / name).read_bytes()
        headers = signers[source](body)
        answer = requests.post(f"{url}/webhooks/{source}", data=body,
                               headers={**headers, "Content-Type": "application/json"}, timeout=10)
        table.add_row(name, source, str(answer.status_code))
        if answer.status_code != 202:
            raise DemoError(f"POST {name} answered {answer.status_code}: {answer.text}")
        time.sleep(0.3)  # webhooks arrive one after another, as they would from a backend
    console.print(table)


def wait_until_synced(store_url: str, base_dir: Path, timeout: float = 60) -> dict[str, int]:
    from slotforce.store import open_store

    deadline = time.monotonic() + timeout
    with open_store(store_url, base_dir=base_dir) as outbox:
        while True:
            counts = outbox.counts()
            if not any(counts.get(k) for k in ("pending", "leased", "retry_scheduled")):
                return counts
            if time.monotonic() > deadline:
                raise DemoError(f"the outbox did not drain in {timeout:.0f} s: {counts}")
            time.sleep(0.3)


def sync_links(env: dict[str, str], config: Path, work: Path, root: Path) -> None:
    step("5. Sync scheduling links: slotforce links sync")
    run([str(Path(sys.executable).parent / "slotforce"), "links", "sync", "--config", str(config),
         str(config.parent / "links.yml")], env, work / "links.log", "slotforce links sync", root)
    console.print((work / "links.log").read_text().rstrip())


def show(sf, trace_uid: str, env: dict[str, str], config: Path, work: Path, root: Path) -> None:
    step("6. What landed in Salesforce (read back with SOQL)")
    actions = sf.query_all("SELECT Name, Action__c, Booking_Uid__c, Source__c, Status__c, Error__c "
                           "FROM Booking_Action__c ORDER BY Name")["records"]
    table = Table("action", "what", "booking", "source", "status", "error", title="Booking Actions",
                  title_justify="left")
    for a in actions:
        table.add_row(a["Name"], a["Action__c"], a["Booking_Uid__c"], a["Source__c"], a["Status__c"],
                      (a["Error__c"] or "")[:60])
    console.print(table)

    events = sf.query_all("SELECT Id, Subject, StartDateTime, Who.Name, What.Name, Owner.Name, Meeting_Status__c, "
                          "Canceled__c, No_Show__c, Booking_Uid__c FROM Event ORDER BY StartDateTime")["records"]
    relations = sf.query_all("SELECT EventId, Relation.Name, IsInvitee FROM EventRelation")["records"]
    guests: dict[str, list[str]] = {}
    for r in relations:
        guests.setdefault(r["EventId"], []).append((r.get("Relation") or {}).get("Name") or "?")
    table = Table("subject", "start (UTC)", "who", "account", "owner", "status", "participants",
                  title="Events", title_justify="left")
    for e in events:
        name = lambda rel: (e.get(rel) or {}).get("Name") or ""  # noqa: E731
        status = e["Meeting_Status__c"] + (" (canceled)" if e["Canceled__c"] else "") + (" (no-show)" if e["No_Show__c"] else "")
        table.add_row(e["Subject"], e["StartDateTime"][:16], name("Who"), name("What"), name("Owner"), status,
                      ", ".join(guests.get(e["Id"], [])))
    console.print(table)

    table = Table("record", "name", "email", "meeting type", "meeting date", "status", "no-show",
                  title="Leads and Contacts with meetings", title_justify="left")
    for sobject in ("Lead", "Contact"):
        for p in sf.query_all(f"SELECT Name, Email, Meeting_Type__c, Meeting_Date__c, Meeting_Status__c, No_Show__c "
                              f"FROM {sobject} WHERE Meeting_Status__c != null ORDER BY Name")["records"]:
            table.add_row(sobject, p["Name"], p["Email"], p["Meeting_Type__c"] or "", (p["Meeting_Date__c"] or "")[:16],
                          p["Meeting_Status__c"], "yes" if p["No_Show__c"] else "")
    console.print(table)

    table = Table("user", "email", "scheduling link", title="Users with scheduling links", title_justify="left")
    for u in sf.query_all("SELECT Name, Email, Scheduling_Link__c FROM User WHERE Scheduling_Link__c != null")["records"]:
        table.add_row(u["Name"], u["Email"], u["Scheduling_Link__c"])
    console.print(table)
    table = Table("link", "kind", "owner", "status", title="Scheduling Links", title_justify="left")
    for link in sf.query_all("SELECT Link_Key__c, Kind__c, Owner_Email__c, Status__c FROM Scheduling_Link__c "
                             "ORDER BY Link_Key__c")["records"]:
        table.add_row(link["Link_Key__c"], link["Kind__c"], link["Owner_Email__c"], link["Status__c"] or "")
    console.print(table)

    step(f"7. The routing trace of booking {trace_uid}: slotforce trace")
    run([str(Path(sys.executable).parent / "slotforce"), "trace", "--config", str(config), trace_uid],
        env, work / "trace.log", "slotforce trace", root)
    console.print((work / "trace.log").read_text().rstrip())


@click.command()
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".slotforce/demo"),
              show_default=True, help="Where the demo keeps its org, outbox and logs (emptied first).")
def demo(work_dir: Path) -> None:
    """Run the whole slotforce path on a fresh local org and print what landed in Salesforce."""
    from slotforce.localorg import LocalOrg

    root = repository()
    work = work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("slotforce.yml", "links.yml"):
        shutil.copy(root / EXAMPLE / name, work / name)
    config = work / "slotforce.yml"
    seed_data = yaml.safe_load((root / EXAMPLE / "seed.yml").read_text())
    env = tool_env(work)
    started = time.monotonic()

    build_package(root)
    with ExitStack() as stack:
        org = stack.enter_context(LocalOrg(state_dir=work / "org"))
        org.write_org_json()
        console.print(f"local org at {org.instance_url} (state in {work / 'org'})")
        deploy(org, env, work, root)
        sf = org.client()
        seed(sf, seed_data)
        url = stack.enter_context(service(config, env, work, root))
        post_webhooks(url, seed_data["webhooks"], root / WEBHOOKS)
        counts = wait_until_synced(yaml.safe_load(config.read_text())["store"], work)
        console.print(f"outbox drained: {counts.get('done', 0)} changes done, {counts.get('failed', 0)} failed, "
                      f"{counts.get('parked', 0)} parked")
        sync_links(env, config, work, root)
        show(sf, seed_data.get("trace", "Qm4Zx8cV1bNp7Kw2"), env, config, work, root)
        calls = org.stats()["api_calls"]
    console.rule()
    console.print(f"[bold green]demo done[/] in {time.monotonic() - started:.0f} s; Salesforce API calls billed: "
                  f"{calls['total']} ({', '.join(f'{k} {v}' for k, v in sorted(calls['by_kind'].items()))}); "
                  f"service and org stopped; logs in {work}")
