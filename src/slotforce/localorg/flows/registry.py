"""Deployed flows and their versions: which version of which flow is active (FlowDefinition)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Flow

_EVENT_TRIGGERS = {
    "create": ("Create", "CreateAndUpdate"),
    "update": ("Update", "CreateAndUpdate"),
    "delete": ("Delete",),
}


@dataclass
class FlowDefinition:
    name: str
    versions: list[Flow] = field(default_factory=list)
    active_version: int | None = None  # 1-based; None = no active version

    @property
    def active(self) -> Flow | None:
        if self.active_version is None:
            return None
        return self.versions[self.active_version - 1]

    @property
    def latest(self) -> Flow | None:
        return self.versions[-1] if self.versions else None


class FlowRegistry:
    """Flows by API name (case-insensitive). Deploying the same source again adds no version."""

    def __init__(self) -> None:
        self._defs: dict[str, FlowDefinition] = {}

    def definition(self, name: str) -> FlowDefinition | None:
        return self._defs.get(name.lower())

    def add(self, definition: FlowDefinition) -> None:
        """Put back a definition read from storage."""
        self._defs[definition.name.lower()] = definition

    def deploy(self, flow: Flow) -> tuple[int, bool]:
        """Add `flow` as a version (unless its source equals the latest one). Status Active makes it
        the active version; Draft/Obsolete leave the active version as it was (as Salesforce does).
        Returns (version number, created)."""
        d = self._defs.setdefault(flow.name.lower(), FlowDefinition(flow.name))
        latest = d.latest
        if flow.version is not None:  # an explicitly numbered version replaces or extends the list
            if not 1 <= flow.version <= len(d.versions) + 1:
                raise ValueError(f"flow {flow.name} has {len(d.versions)} version(s); version {flow.version} "
                                 f"cannot come before version {len(d.versions) + 1}")
            if flow.version == len(d.versions) + 1:
                d.versions.append(flow)
                created = True
            else:
                created = d.versions[flow.version - 1].source != flow.source
                d.versions[flow.version - 1] = flow
            number = flow.version
        elif latest is not None and latest.source == flow.source and latest.status == flow.status:
            number, created = len(d.versions), False
        else:
            d.versions.append(flow)
            number, created = len(d.versions), True
        if flow.status == "Active":
            d.active_version = number
        elif d.active_version == number:
            d.active_version = None
        return number, created

    def set_active_version(self, name: str, number: int) -> None:
        """FlowDefinition.activeVersionNumber: 0 deactivates; N activates version N."""
        d = self._defs.get(name.lower())
        if d is None:
            raise KeyError(name)
        if number == 0:
            d.active_version = None
        elif 1 <= number <= len(d.versions):
            d.active_version = number
        else:
            raise ValueError(f"flow {d.name} has {len(d.versions)} version(s); there is no version {number}")

    def active(self, name: str) -> Flow | None:
        d = self._defs.get(name.lower())
        return d.active if d else None

    def triggered(self, sobject: str, timing: str, event: str) -> list[Flow]:
        """Active record-triggered flows of `sobject` for `timing` (before|after) and `event`
        (create|update|delete), in trigger order (unordered flows after ordered ones, then by name)."""
        out = []
        for d in self._defs.values():
            f = d.active
            if f is None or not f.is_record_triggered:
                continue
            if (f.start.object or "").lower() != sobject.lower():
                continue
            if f.start.trigger_type == "RecordBeforeDelete":
                if timing != "before" or event != "delete":
                    continue
            elif f.timing != timing or f.start.record_trigger_type not in _EVENT_TRIGGERS.get(event, ()):
                continue
            out.append(f)
        out.sort(key=lambda f: (f.trigger_order if f.trigger_order is not None else 10_000, f.name.lower()))
        return out

    def __iter__(self):
        return iter(self._defs.values())

    def snapshot(self) -> dict:
        """What `restore` needs to undo deploys made after this call."""
        return {k: (d, list(d.versions), d.active_version) for k, d in self._defs.items()}

    def restore(self, snap: dict) -> None:
        self._defs = {}
        for k, (d, versions, active) in snap.items():
            d.versions, d.active_version = versions, active
            self._defs[k] = d
