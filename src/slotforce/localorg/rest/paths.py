"""Request paths as Salesforce reads them: repeated slashes collapse into one (`//services/data/...`).

The sf CLI stores an instance URL given with a trailing slash and then asks for
`https://host//services/data/...`; Salesforce serves that as `/services/data/...`, so the local
org does too. This is the outermost ASGI layer: faults and routes see the normalised path.
"""

from __future__ import annotations

import re
from typing import Any

_SLASHES = re.compile(r"/{2,}")
_RAW_SLASHES = re.compile(rb"/{2,}")


class CollapseSlashes:
    """ASGI middleware: `path` and `raw_path` with runs of '/' replaced by one '/'."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope, path=_SLASHES.sub("/", scope["path"]))
            if scope.get("raw_path"):
                scope["raw_path"] = _RAW_SLASHES.sub(b"/", scope["raw_path"])
        await self.app(scope, receive, send)
