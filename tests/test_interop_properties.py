"""Properties of the FHIR reader: any case the default mapping carries round-trips, and a
damaged bundle maps without an uncaught exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import failedcontact as fc
from failedcontact.interop.fhir import map_bundle
from failedcontact.testing.strategies import cases

from .interop_builders import bundle_for
from .test_interop import AS_OF, CHILD, _mapped_ok

# --- properties -------------------------------------------------------------------------------

_CARRIED = {"home_visit", "appointment", "call", "message", "action", "concern",
            "support_request", "referral"}  # fmt: skip


@given(data=st.data())
def test_any_case_the_default_mapping_carries_round_trips(data: st.DataObject) -> None:
    pack = fc.load_pack("north_lincs")
    case = data.draw(cases(pack, max_events=12))
    case["events"] = [e for e in case["events"] if e["type"] in _CARRIED
                      and not (e["type"] == "call" and "out_of_hours" in e)]  # fmt: skip
    case["child"].pop("unborn", None)
    for key in ("disability", "known_to_childrens_services", "previous_concerns",
                "cp_plan_in_last_year", "home_educated", "urgent_health_need"):  # fmt: skip
        case["child"].pop(key, None)
    for key in ("known_violence", "communication_needs"):
        case["household"].pop(key, None)
    if case["household"].get("local_authority") not in (None, "north_lincolnshire", "luton"):
        case["household"].pop("local_authority")
    try:
        expected = pack.assess(case, as_of=AS_OF).model_dump(mode="json")
    except fc.CaseError:
        return  # the strategies also draw invalid cases; those are the case tests' business
    naive = data.draw(st.booleans())
    mapped = map_bundle(bundle_for(case, naive_times=naive))
    got = pack.assess(_mapped_ok(mapped), as_of=AS_OF).model_dump(mode="json")
    # the mapped case lists events in time order, so compare what does not depend on indexes
    for document in (expected, got):
        for action in document["actions"]:
            action["trigger"].pop("event")
        for pattern in document["patterns"]:
            pattern.pop("events")
        document["episode"].pop("event")
        document.pop("trace")
        # ties in the worklist order are broken by event index, which the time order changes
        document["actions"].sort(key=lambda action: action["id"])
        document["patterns"].sort(key=lambda pattern: pattern["id"])
    assert got == expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)  # fmt: skip


@given(data=st.data())
def test_any_damaged_bundle_maps_without_an_uncaught_exception(data: st.DataObject) -> None:
    case = {**CHILD, "events": [
        {"at": "2026-11-02T10:00:00", "type": "appointment", "outcome": "not_brought"},
        {"at": "2026-11-03T10:00:00", "type": "home_visit", "outcome": "doorstep"},
        {"at": "2026-11-04T10:00:00", "type": "message", "channel": "letter"},
        {"at": "2026-11-05T10:00:00", "type": "action", "action": "check_address"}]}  # fmt: skip
    bundle = bundle_for(case)
    for _ in range(data.draw(st.integers(1, 4))):
        resource = data.draw(st.sampled_from(bundle["entry"]))["resource"]
        key = data.draw(st.sampled_from(sorted(resource)))
        resource[key] = data.draw(_JSON)
    mapped = map_bundle(bundle)
    assert mapped.case is not None or mapped.errors
