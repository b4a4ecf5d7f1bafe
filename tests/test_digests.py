"""The decision log's digests are over RFC 8785 canonical JSON, which any JCS library
recomputes (C#, Java, JavaScript), not over Python's or orjson's idea of "sorted keys"."""

from __future__ import annotations

import hashlib
import json

from failedcontact.runs.decision_log import canonical_json, case_digest

# RFC 8785 section 3.2.2's example: numbers as ECMAScript writes them, minimal escapes
_INPUT = (
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
    ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "literals": [null, true, false]}'
)
_CANONICAL = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
).encode()


def test_canonical_json_is_rfc_8785() -> None:
    assert canonical_json(json.loads(_INPUT)) == _CANONICAL


def test_case_sha256_is_the_digest_of_the_rfc_8785_text() -> None:
    digest = "sha256:" + hashlib.sha256(_CANONICAL).hexdigest()
    assert case_digest(json.loads(_INPUT)) == digest


def test_keys_sort_by_utf16_code_units_as_rfc_8785_says() -> None:
    # U+1F600 is D83D DE00 in UTF-16, before U+FB01 (FB01); by code point it comes after
    assert canonical_json({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'.encode()
