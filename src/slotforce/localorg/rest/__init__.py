"""HTTP face of the local org: routes that translate REST calls into model calls and back."""

from slotforce.localorg.rest.app import build_app

__all__ = ["build_app"]
