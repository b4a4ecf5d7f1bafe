"""Who may call the service: bearer tokens, and admin tokens for reloading packs.

The `Authorization` header is read exactly as RFC 6750 section 2.1 says:
`credentials = "Bearer" 1*SP b64token`, the scheme case-insensitive (RFC 9110 section 11.1),
`b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. Any other header
under the Bearer scheme is malformed (400, `invalid_request`); no header, or another scheme,
is a missing token (401); an unknown token is `invalid_token` (401). Every 401 carries
`WWW-Authenticate: Bearer` (RFC 6750 section 3).

Admin routes are never open without an admin token: `--allow-unauthenticated` waives the
tokens for assessing only, and a service with no admin tokens refuses every admin request
(reload with SIGHUP instead).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable

from fastapi import Request

from ..codes import Code
from .problems import Problem
from .settings import Settings

_REALM = 'realm="failedcontact"'
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_CREDENTIALS = re.compile(r"(?i:bearer) +(" + _TOKEN.pattern + ")")
_SCHEME = re.compile(r"(?i:bearer)(?:[ \t]|$)")


def authorise(settings: Settings, request: Request, admin: bool = False) -> None:
    """Raise a 400, 401 or 403 problem unless the request's bearer token may do this."""
    if admin:
        if not settings.admin_tokens:
            raise Problem(
                403,
                Code.SERVICE_FORBIDDEN,
                "Forbidden",
                "this service has no admin tokens, so no request may reload packs; give "
                "--admin-tokens-file, or send the server SIGHUP",
            )
        token = _bearer(request)
        if not _token_matches(token, settings.admin_tokens):
            if not _token_matches(token, settings.tokens):
                raise _unauthorized(token, "an admin bearer token is required")
            raise Problem(
                403, Code.SERVICE_FORBIDDEN, "Forbidden", "this token may not reload packs"
            )
        return
    if settings.allow_unauthenticated and not settings.tokens:
        return
    token = _bearer(request)
    if not _token_matches(token, settings.tokens + settings.admin_tokens):
        raise _unauthorized(token, "a valid `Authorization: Bearer <token>` header is required")


def check_tokens(tokens: Iterable[str]) -> None:
    """Raise `ValueError` for a token no client could send (not an RFC 6750 b64token)."""
    for number, token in enumerate(tokens, 1):
        if not _TOKEN.fullmatch(token):
            raise ValueError(
                f"token {number} is not a bearer token: use only letters, digits and -._~+/, "
                "with optional trailing `=` (RFC 6750 section 2.1)"
            )


def _unauthorized(token: str | None, detail: str) -> Problem:
    # RFC 6750 section 3.1: no error code when no credentials were sent at all
    challenge = f"Bearer {_REALM}" if token is None else f'Bearer {_REALM}, error="invalid_token"'
    return Problem(
        401,
        Code.SERVICE_UNAUTHORIZED,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": challenge},
    )


def _token_matches(given: str | None, tokens: Iterable[str]) -> bool:
    # every token is compared, in constant time each, so timing tells nothing about which
    if given is None:
        return False
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def _bearer(request: Request) -> str | None:
    """The bearer token, None when none was sent; a malformed Bearer header is a 400."""
    headers = request.headers.getlist("authorization")
    if not headers:
        return None
    if len(headers) == 1:
        header = headers[0]
        found = _CREDENTIALS.fullmatch(header)
        if found:
            return found.group(1)
        if not _SCHEME.match(header):
            return None  # another scheme (Basic, ...): no bearer token was sent
    raise Problem(
        400,
        Code.SERVICE_BAD_REQUEST,
        "Malformed Authorization header",
        "expected exactly one `Authorization: Bearer <token>` header, the token of letters, "
        "digits and -._~+/ with optional trailing `=` (RFC 6750 section 2.1)",
        headers={"WWW-Authenticate": f'Bearer {_REALM}, error="invalid_request"'},
    )
