"""Who may call the service: bearer tokens, and admin tokens for reloading packs."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import Request

from ..codes import Code
from .problems import Problem
from .settings import Settings


def authorise(settings: Settings, request: Request, admin: bool = False) -> None:
    """Raise a 401 or 403 problem unless the request's bearer token may do this."""
    if admin:
        if not settings.admin_tokens and settings.allow_unauthenticated:
            return
        token = _bearer(request)
        if token is None:
            raise Problem(
                401, Code.SERVICE_UNAUTHORIZED, "Unauthorized", "an admin bearer token is required"
            )
        if not _token_matches(token, settings.admin_tokens):
            raise Problem(
                403, Code.SERVICE_FORBIDDEN, "Forbidden", "this token may not reload packs"
            )
        return
    if settings.allow_unauthenticated and not settings.tokens:
        return
    token = _bearer(request)
    if token is None or not _token_matches(token, settings.tokens + settings.admin_tokens):
        raise Problem(
            401,
            Code.SERVICE_UNAUTHORIZED,
            "Unauthorized",
            "a valid `Authorization: Bearer <token>` header is required",
        )


def _token_matches(given: str, tokens: Iterable[str]) -> bool:
    # every token is compared, in constant time each, so timing tells nothing about which
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
