import pytest

# local_org, local_org_session and sf come from the root conftest's plugin (slotforce.localorg.testing):
# importing them here too would make a second session org for this folder, and packaged_org (session
# scoped, slotforce.testing) would then hold whichever one asked first.


@pytest.fixture
def triggers(local_org):
    """Register triggers for one test only (the session org is shared)."""
    added = []
    yield added
    for t in added:
        for registry in (local_org.org.triggers, local_org.org.before_save_triggers):
            if t in registry:
                registry.remove(t)
