"""What the service keeps per org it serves: secrets, Salesforce health and API use, owner lookups, link sync.

One deployment serves the orgs of slotforce.yml's `orgs:` (or the one org `default` of a file without
it). Each org's webhooks are verified with its own secrets, its Salesforce calls report to its own
`SalesforceReachability` and `OrgWatch`, its owner lookups share one engine of its own, and its
links are synced on its own schedule (claimed through the outbox per org, so once per deployment).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from simple_salesforce import Salesforce

from slotforce.service.config import OrgConfig, ServiceConfig
from slotforce.service.connect import ConnectError, call_guard, connect
from slotforce.service.health import SalesforceReachability, missing_secrets
from slotforce.service.link_source import configured_links
from slotforce.service.org_watch import OrgWatch
from slotforce.sources import SOURCES, LinkApiError, options_for, secret_env_names, secrets_from_env
from slotforce.store import DEFAULT_ORG, Outbox
from slotforce.sync import LinkSyncError, LinksFileError, SalesforceCallError, SyncEngine, sync_links

log = logging.getLogger("slotforce.service")


class LinkSchedule:
    """Runs `links sync` of one org's configured source (file or API) every `every_minutes`."""

    def __init__(self, served: "ServedOrg") -> None:
        self.served = served
        self.last_run_at: datetime | None = None
        self.last_result: str | None = None

    @property
    def job(self) -> str:
        """The outbox's name of this org's periodic run (the implicit org keeps the name it always had)."""
        return "links" if self.served.name == DEFAULT_ORG else f"links:{self.served.name}"

    @property
    def every(self) -> timedelta | None:
        links = self.served.org.links
        return timedelta(minutes=links.every_minutes) if links else None

    def run_once(self) -> None:
        served, outbox = self.served, self.served.outbox
        try:
            pulled = configured_links(served.config, org=served.org)
            # a client of its own, made per run: hourly runs get a fresh session and never share one
            result = sync_links(served.connect(), pulled.links)
            served.metrics.calls("links", result.api_calls, org=served.name)
            self.last_result = (f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
                                + (f", {len(result.failed)} failed" if result.failed else "")
                                + (f", {len(pulled.skipped)} skipped" if pulled.skipped else ""))
            if result.failed:
                outbox.record_sync_error("links", "; ".join(str(f) for f in result.failed[:5]),
                                         code="LINK_SYNC_FAILED", org=served.name)
        except (LinksFileError, LinkApiError, LinkSyncError, ConnectError) as err:
            self.last_result = f"failed: {err}"
            outbox.record_sync_error("links", str(err), code="LINK_SYNC_FAILED", org=served.name)
        except Exception as err:
            log.exception("link sync of org %s failed", served.name)
            self.last_result = f"failed: {type(err).__name__}: {err}"
        self.last_run_at = datetime.now(timezone.utc)

    def run_if_due(self) -> None:
        """Run when this period's run is still unclaimed by any host of the deployment."""
        every = self.every
        if every is not None and self.served.outbox.claim_job(self.job, every):
            self.run_once()


class ServedOrg:
    """One org of the deployment, as the service runs it (built from its `OrgConfig`)."""

    def __init__(self, config: ServiceConfig, org: OrgConfig, outbox: Outbox, metrics: Any,
                 environ: dict[str, str] | None = None, *, links: bool = True) -> None:
        self.config = config
        self.org = org
        self.name = org.name
        self.settings = org.settings
        self.outbox = outbox  # the intake's connection (errors, job claims)
        self.metrics = metrics
        self.secrets = secrets_from_env(org.sources, environ)
        self.secret_envs = secret_env_names(org.sources)
        # Read once: a request should not re-read the org's sources block.
        self.parse_options = {source: options_for(source, org.sources) for source in SOURCES}
        self.salesforce = SalesforceReachability()
        self.watch = OrgWatch()  # instance URL and API use, from the answers every client gets
        self.links = LinkSchedule(self) if org.links and links else None
        self._owner_lock = threading.Lock()  # owner lookups share one client and its describes
        self._owner_engine: SyncEngine | None = None

    @property
    def base_dir(self) -> Path:
        return self.config.base_dir

    def connect(self) -> Salesforce:
        """A client whose every call tells this org's `salesforce` whether Salesforce answered."""
        try:
            sf = connect(self.settings.salesforce, self.config.base_dir)
        except ConnectError as err:
            self.salesforce.record(False, str(err))
            raise
        call_guard(sf).on_result = self.salesforce.record
        self.watch.watch(sf)
        return sf

    @property
    def missing_secrets(self) -> dict[str, str]:
        """Sources of this org without a secret: {source: the env var to set}."""
        return missing_secrets(self.org.sources, self.secret_envs, self.secrets)

    def owner(self, email: str, event_type: str | None, hosts: list[str]):
        with self._owner_lock:
            if self._owner_engine is None:
                self._owner_engine = SyncEngine(self.settings, self.connect())
            engine = self._owner_engine
            calls = engine.gateway.calls
            try:
                return engine.owner_for(email, event_type, hosts)
            except SalesforceCallError as err:
                if err.transient:
                    self._owner_engine = None  # reconnect next time (expired session, outage)
                raise
            finally:
                self.metrics.calls("owner", engine.gateway.calls - calls, org=self.name)
