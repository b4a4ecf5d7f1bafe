"""How a service runs, and how `serve` hands that to its worker processes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..runs.decision_log import LogOptions


@dataclass(frozen=True, slots=True)
class Settings:
    """How a service runs: its packs, who may call it, its limits and its decision log."""

    packs: Path
    tokens: tuple[str, ...] = ()
    admin_tokens: tuple[str, ...] = ()
    allow_unauthenticated: bool = False
    max_body_bytes: int = 4 * 1024 * 1024
    decision_log: Path | None = None
    log_options: LogOptions = field(default_factory=LogOptions)
    log_sync: bool = False
    header_timeout: float = 10.0  # seconds to send a whole request head
    body_timeout: float = 30.0  # seconds between body chunks
    max_connections: int = 1000  # open connections; the idle longest give way above it
    log_json: bool = False  # the server's own log as JSON lines

    def as_environment(self) -> dict[str, str]:
        """The settings as one environment variable, for worker processes to read back."""
        return {
            "FAILEDCONTACT_SERVICE": orjson.dumps(
                {
                    "packs": str(self.packs),
                    "tokens": list(self.tokens),
                    "admin_tokens": list(self.admin_tokens),
                    "allow_unauthenticated": self.allow_unauthenticated,
                    "max_body_bytes": self.max_body_bytes,
                    "decision_log": str(self.decision_log) if self.decision_log else None,
                    "log_case": self.log_options.include_case,
                    "log_mask": list(self.log_options.mask),
                    "log_sync": self.log_sync,
                    "header_timeout": self.header_timeout,
                    "body_timeout": self.body_timeout,
                    "max_connections": self.max_connections,
                    "log_json": self.log_json,
                }
            ).decode()
        }


def settings_from_environment() -> Settings:
    """The settings `as_environment` wrote."""
    data = orjson.loads(os.environ["FAILEDCONTACT_SERVICE"])
    return Settings(
        packs=Path(data["packs"]),
        tokens=tuple(data["tokens"]),
        admin_tokens=tuple(data["admin_tokens"]),
        allow_unauthenticated=data["allow_unauthenticated"],
        max_body_bytes=data["max_body_bytes"],
        decision_log=Path(data["decision_log"]) if data["decision_log"] else None,
        log_options=LogOptions(data["log_case"], tuple(data["log_mask"])),
        log_sync=data["log_sync"],
        header_timeout=data["header_timeout"],
        body_timeout=data["body_timeout"],
        max_connections=data["max_connections"],
        log_json=data["log_json"],
    )
