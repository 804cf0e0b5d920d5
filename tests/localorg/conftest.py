from slotforce.localorg.testing import local_org, local_org_session, sf  # noqa: F401
