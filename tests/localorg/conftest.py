import pytest

from slotforce.localorg.testing import local_org, local_org_session, sf  # noqa: F401


@pytest.fixture
def triggers(local_org):  # noqa: F811 (the fixture imported above)
    """Register triggers for one test only (the session org is shared)."""
    added = []
    yield added
    for t in added:
        for registry in (local_org.org.triggers, local_org.org.before_save_triggers):
            if t in registry:
                registry.remove(t)
