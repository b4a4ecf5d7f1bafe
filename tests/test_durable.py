"""The durable-rules backend agrees with the native engine on generated cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import failedcontact as fc
from failedcontact.engine import durable
from failedcontact.testing.strategies import case_and_as_of

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
PACKS = {pack_id: fc.load_pack(pack_id) for pack_id in fc.bundled_ids()}
needs_durable = pytest.mark.skipif(
    not durable.available(),
    reason="durable-rules is not installed (it builds on Python < 3.13 with a C compiler)",
)


@needs_durable
@pytest.mark.parametrize("pack_id", sorted(PACKS))
@given(data=st.data())
def test_durable_and_native_backends_agree(pack_id: str, data: st.DataObject) -> None:
    pack = PACKS[pack_id]
    case, as_of = data.draw(case_and_as_of(pack, 25))
    native = pack.assess(case, as_of).model_dump_json()
    assert pack.assess(case, as_of, backend="durable").model_dump_json() == native


@needs_durable
def test_durable_sessions_are_deleted_after_each_case() -> None:
    pack = PACKS["north_lincs"]
    case = {"case_id": "D", "events": [
        {"at": "2026-11-23T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    for _ in range(3):
        pack.assess(case, AS_OF, backend="durable")
        lowered = durable._STATE["rulesets"][pack.digest]
        with pytest.raises(Exception, match="Could not get state"):
            durable._STATE["host"].get_state(lowered.name, durable._STATE["last_session"])


def test_missing_durable_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(durable, "_engine", None)
    case = {"case_id": "D"}
    with pytest.raises(fc.BackendUnavailable, match=r"pip install 'failedcontact\[durable\]'"):
        PACKS["north_lincs"].assess(case, AS_OF, backend="durable")
    assert issubclass(fc.BackendUnavailable, fc.FailedContactError)
