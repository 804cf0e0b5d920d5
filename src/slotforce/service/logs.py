"""How `slotforce serve` logs: text or one JSON object a line, and no emails unless `--log-pii`.

Lines that operators and log pipelines key on carry their fields as `extra={"event": ..., ...}`
(delivery, batch, outage_start, outage_end, failed); the JSON format puts those fields at the top
level, the text format appends them as key=value. Without `--log-pii`, anything that looks like an
email address is replaced by `<email>` in every line (Salesforce error messages quote values);
slotforce's own lines never put names in.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class Redact(logging.Filter):
    """Replaces email addresses in the message and the extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = EMAIL.sub("<email>", record.getMessage()), None
        for key, value in fields(record).items():
            if isinstance(value, str):
                setattr(record, key, EMAIL.sub("<email>", value))
            elif isinstance(value, list):
                setattr(record, key, [EMAIL.sub("<email>", v) if isinstance(v, str) else v for v in value])
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                **fields(record)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in fields(record).items() if k != "event")
        return super().format(record) + (f" [{extra}]" if extra else "")


def configure(level: str, log_format: str, pii: bool) -> logging.Handler:
    """The root logger (uvicorn's too) writes to stderr in `log_format` ("text" | "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    if not pii:
        handler.addFilter(Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # one format for every line of the process
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return handler
