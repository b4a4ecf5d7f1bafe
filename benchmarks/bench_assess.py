"""Benchmark the engine on reproducible random cases (a script, not a test).

Reports assessments per second and median / p99 latency for:
  (a) `pack.assess` on an already-validated `Case`;
  (b) JSON text in to JSON text out (`Case` validation, assessment, serialisation);
  (c) a hand-written plain-Python function implementing the same North Lincolnshire rules,
      the floor. It is checked to agree with (a) on every generated case before timing.
Then, each against its target from issue 10:
  (d) reading times without an offset against the same times with one;
  (e) linearity: a 10,000-event case against a 1,000-event one, on every bundled pack;
  (f) a cold `load_pack` in a fresh process, on every bundled pack.

Run:  python benchmarks/bench_assess.py [--cases N] [--seed S] [--events-b 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import failedcontact as fc
from failedcontact.engine.build import engine_build
from failedcontact.model.calendar import months_before
from failedcontact.model.case import UK, Case, age_in_years

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
VISIT = [
    "no_response",
    "access_refused",
    "doorstep",
    "child_not_seen",
    "prevented_from_seeing_child",
    "child_seen",
]
APPOINTMENT = [
    "attended",
    "not_brought",
    "cancelled_by_family",
    "rearranged_by_family",
    "cancelled_by_service",
]
SHARED = [
    "offer_further_appointment",
    "telephone_family",
    "send_no_access_letter",
    "report_significant_harm",
    "record_failed_contact",
]


def random_case(rng: random.Random, events: int) -> dict[str, Any]:
    """A realistic random case with `events` events over the three months before AS_OF."""
    start = AS_OF - timedelta(days=90)
    history = []
    for _ in range(events):
        at = (start + timedelta(minutes=rng.randint(0, 90 * 24 * 60))).astimezone(UK)
        text = at.replace(tzinfo=None).isoformat() if rng.random() < 0.5 else at.isoformat()
        roll = rng.random()
        if roll < 0.45:
            history.append({"at": text, "type": "home_visit", "outcome": rng.choice(VISIT)})
        elif roll < 0.65:
            history.append({"at": text, "type": "appointment", "outcome": rng.choice(APPOINTMENT)})
        elif roll < 0.75:
            history.append({"at": text, "type": "action", "action": rng.choice(SHARED)})
        elif roll < 0.82:
            history.append({"at": text, "type": "call", "outcome": "no_answer"})
        elif roll < 0.87:
            history.append(
                {
                    "at": text,
                    "type": "concern",
                    "level": rng.choice(["welfare", "significant_harm"]),
                }
            )
        elif roll < 0.92:
            history.append({"at": text, "type": "address_change"})
        elif roll < 0.96:
            history.append({"at": text, "type": "service_refused"})
        else:
            history.append({"at": text, "type": "message", "channel": "letter"})
    born = AS_OF.date() - timedelta(days=rng.randint(0, 17 * 365))
    return {
        "case_id": f"B-{rng.randrange(10**9)}",
        "service": rng.choice(["universal", "universal", "early_help", "social_care"]),
        "child": {
            "date_of_birth": born.isoformat(),
            "plan": rng.choice(
                ["none", "none", "early_help", "child_in_need", "child_protection", "looked_after"]
            ),
            "disability": rng.random() < 0.1,
            "previous_concerns": rng.random() < 0.2,
        },
        "household": {
            "landlord": rng.choice(["Ongo Homes", "Other Homes", None]),
            "tenure": "housing_association",
        },
        "events": history,
    }


# ---------------------------------------------------------------------------------------
# (c) the floor: the North Lincolnshire pack's rules written out by hand in plain Python.

_FAILED = {
    ("home_visit", "no_response"),
    ("home_visit", "access_refused"),
    ("home_visit", "doorstep"),
    ("home_visit", "child_not_seen"),
    ("home_visit", "prevented_from_seeing_child"),
    ("appointment", "not_brought"),
}
_SEEN = {
    ("home_visit", "child_seen"),
    ("home_visit", "seen_not_alone"),
    ("appointment", "attended"),
}
_ONGO = {"ongo homes", "ongo homes ltd", "ongo homes limited", "ongo"}
# Steps the work itself completes when it follows the trigger (north_lincs 6a).
_EVIDENCE = {
    "leave_written_communication": {("message", "card"), ("message", "letter")},
    "send_no_access_letter": {("message", "letter")},
    "telephone_family": {("call", "answered")},
}
_UNIVERSAL = [
    "check_address",
    "leave_written_communication",
    "review_child_record",
    "send_no_access_letter",
    "offer_further_appointment",
    "telephone_family",
    "involve_familiar_professionals",
    "record_failed_contact",
]
_EH_CIN = [
    "check_address",
    "leave_written_communication",
    "review_child_record",
    "check_other_agencies",
    "offer_further_appointment",
    "telephone_family",
    "manager_writes_to_family",
    "record_failed_contact",
]
_FIVE_DAYS = {"offer_further_appointment"}
_WITH_OUTCOME = {"home_visit", "appointment", "call"}


def hand_written(case: Case, as_of: datetime, calendar: fc.WorkingCalendar) -> dict[str, Any]:
    """North Lincolnshire by hand: same answers as the pack, no rules engine."""
    # dispatch is on the `type` tag, which mypy cannot narrow on: read events as Any
    events: tuple[Any, ...] = case.events
    stamps = [e.at.timestamp() for e in events]
    now = as_of.timestamp()
    order = sorted(range(len(events)), key=stamps.__getitem__)
    order = [i for i in order if stamps[i] <= now]
    last_seen = -1
    for pos, i in enumerate(order):
        e = events[i]
        if e.type in _WITH_OUTCOME and (e.type, e.outcome) in _SEEN:
            last_seen = pos
    plan, service = case.child.plan, case.service
    on_6b_plan = plan in ("early_help", "child_in_need")
    universal = service in ("universal", "adult_service") and not on_6b_plan
    eh_cin = on_6b_plan or (
        service in ("early_help", "social_care")
        and plan not in ("child_protection", "looked_after")
    )
    ongo = " ".join((case.household.landlord or "").split()).casefold() in _ONGO
    fired: dict[str, tuple[int, int, datetime, bool]] = {}
    done: dict[str, int] = {}
    evidence: list[tuple[int, tuple[str, str]]] = []
    run = 0
    levels = set()

    def need(ids: list[str], pos: int, i: int, at: datetime, at_once: bool = False) -> None:
        for action in ids:
            previous = fired.get(action)
            if previous is None or previous[0] != pos:  # the first rule at an event wins
                fired[action] = (pos, i, at, at_once and action == "check_address")

    for pos, i in enumerate(order):
        e = events[i]
        key = (e.type, e.outcome if e.type in _WITH_OUTCOME else None)
        if key in _SEEN:
            run = 0
        elif key in _FAILED:
            run += 1
        if e.type == "action":
            done[e.action] = pos
        elif e.type == "message":
            evidence.append((pos, ("message", e.channel)))
        elif e.type == "call":
            evidence.append((pos, ("call", e.outcome)))
        if e.type == "address_change":
            need(["check_address"], pos, i, e.at)
        if e.type == "concern":
            levels.add(e.level)
            if eh_cin:
                need(["discuss_with_cp_lead"], pos, i, e.at)
            if e.level in ("significant_harm", "immediate_danger"):
                need(["report_significant_harm"], pos, i, e.at)
        if e.type == "service_refused":
            need(["record_refusal_reason"], pos, i, e.at)
        if key == ("home_visit", "prevented_from_seeing_child"):
            need(["inform_line_manager"], pos, i, e.at)
        if key in _FAILED and pos > last_seen:
            if universal and run in (1, 2):
                need(_UNIVERSAL, pos, i, e.at)
            if universal and run == 2 and ongo:
                need(["request_joint_visit_with_housing_officer"], pos, i, e.at)
            if universal and run >= 3:
                need(
                    [
                        "discuss_with_practice_manager",
                        "check_childrens_services_records",
                        "manager_writes_to_family",
                        "record_failed_contact",
                    ],
                    pos,
                    i,
                    e.at,
                )
            if eh_cin:
                need(_EH_CIN, pos, i, e.at, at_once=True)
                if run >= 2:
                    need(["send_no_access_letter", "offer_further_appointment"], pos, i, e.at)
            if plan in ("early_help", "child_in_need"):
                need(["inform_lead_professional"], pos, i, e.at)
            if plan in ("child_protection", "looked_after"):
                need(
                    [
                        "discuss_with_cp_lead",
                        "discuss_with_key_worker",
                        "confirm_discussion_in_writing",
                        "north_lincs.consider_earlier_review_conference",
                    ],
                    pos,
                    i,
                    e.at,
                )
            if case.household.communication_needs:
                need(["north_lincs.communicate_to_needs"], pos, i, e.at)
    actions = []
    for action, (pos, i, at, at_once) in fired.items():
        if action in _FIVE_DAYS:
            due: datetime | None = calendar.end_of_working_days(at, 5)
        elif action == "report_significant_harm" or at_once:
            due = at.astimezone(UK)
        else:
            due = None
        wanted = _EVIDENCE.get(action, set())
        if done.get(action, -1) > pos or any(q > pos and k in wanted for q, k in evidence):
            status = "done"
        elif due is not None and now > due.timestamp():
            status = "overdue"
        else:
            status = "outstanding"
        actions.append((action, due, status, i))
    # patterns
    keys = [(events[i].type, getattr(events[i], "outcome", None)) for i in order]
    patterns = []
    visits = [p for p, key in enumerate(keys) if key[0] in ("home_visit", "appointment")]
    for p, key in enumerate(keys):
        if key[1] in ("rearranged_by_family", "cancelled_by_family"):
            later = next((q for q in visits if q > p), None)
            if later is not None and keys[later] in _FAILED:
                patterns.append("disguised_compliance")
                break
    closure = 0
    for key in keys[last_seen + 1 :]:
        if key in _FAILED or key[0] == "service_refused" or key[1] == "cancelled_by_family":
            closure += 1
    if closure >= 3:
        patterns.append("closure")
    year_ago = months_before(now, 12)
    moves = [i for i in order if events[i].type == "address_change" and stamps[i] > year_ago]
    if len(moves) >= 2:
        patterns.append("flight")
    child = case.child
    age = (
        age_in_years(child.date_of_birth, as_of.astimezone(UK).date())
        if child.date_of_birth and not child.unborn
        else None
    )
    if (
        plan in ("child_protection", "looked_after", "child_in_need")
        or child.known_to_childrens_services
        or service == "social_care"
        or child.cp_plan_in_last_year
        or child.disability
        or child.urgent_health_need
        or levels & {"significant_harm", "immediate_danger"}
    ):
        tier = "high"
    elif (
        child.unborn
        or (age is not None and age < 5)
        or child.previous_concerns
        or plan == "early_help"
        or case.household.known_violence
        or child.home_educated
        or "welfare" in levels
        or patterns
    ):
        tier = "medium"
    else:
        tier = "low"
    return {
        "risk_tier": tier,
        "failed_contacts": run,
        "actions": sorted(actions),
        "patterns": sorted(patterns),
    }


def _summary(assessment: fc.Assessment) -> dict[str, Any]:
    return {
        "risk_tier": assessment.risk_tier.value,
        "failed_contacts": assessment.failed_contacts,
        "actions": sorted(
            (a.id, a.due, a.status.value, a.trigger.event) for a in assessment.actions
        ),
        "patterns": sorted(p.id for p in assessment.patterns),
    }


def _round(items: list[Any], call: Callable[[Any], object]) -> tuple[float, list[int]]:
    timings = []
    clock = time.perf_counter_ns
    started = clock()
    for item in items:
        t0 = clock()
        call(item)
        timings.append(clock() - t0)
    return len(items) / ((clock() - started) / 1e9), sorted(timings)


def compare(rounds: int, runs: list[tuple[str, list[Any], Callable[[Any], object]]]) -> list[float]:
    """Time each run for `rounds` rounds, interleaved so all see the same machine; print the
    best round of each (as timeit does: the least disturbed) and return the rates."""
    for _, items, call in runs:
        for item in items[:200]:
            call(item)  # warm caches (calendar years, code paths)
    best: list[tuple[float, list[int]]] = [(0.0, [])] * len(runs)
    for _ in range(rounds):
        for position, (_, items, call) in enumerate(runs):
            result = _round(items, call)
            if result[0] > best[position][0]:
                best[position] = result
    for (label, _, _), (rate, timings) in zip(runs, best, strict=True):
        median = statistics.median(timings) / 1000
        p99 = timings[int(len(timings) * 0.99)] / 1000
        print(f"{label:<58} {rate:>10,.0f}/s  median {median:7.1f} us  p99 {p99:7.1f} us")
    return [rate for rate, _ in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--events-b", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="best of this many rounds")
    parser.add_argument("--quick", action="store_true", help="fewer repeats of (e)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pack = fc.load_pack("north_lincs")
    mixed = [random_case(rng, rng.randint(1, 30)) for _ in range(args.cases)]
    twenty = [random_case(rng, args.events_b) for _ in range(args.cases)]
    mixed_cases = [fc.parse_case(c) for c in mixed]
    twenty_cases = [fc.parse_case(c) for c in twenty]
    twenty_json = [json.dumps(c) for c in twenty]
    calendar = pack.compiled.calendar

    disagreements = 0
    for case in mixed_cases + twenty_cases:
        if _summary(pack.assess(case, AS_OF)) != hand_written(case, AS_OF, calendar):
            disagreements += 1
    print(
        f"hand-written floor agrees with the pack on "
        f"{2 * args.cases - disagreements}/{2 * args.cases} cases"
    )
    if disagreements:
        raise SystemExit("the floor disagrees with the pack: the comparison would be unfair")

    print(
        f"seed {args.seed}, {args.cases} cases per run, best of {args.rounds} interleaved "
        f"rounds, as_of {AS_OF.isoformat()}, engine {engine_build()} ({fc.__version__})"
    )
    a_mix, c_mix = compare(
        args.rounds,
        [
            ("(a) pack.assess(Case), 1-30 events", mixed_cases, lambda c: pack.assess(c, AS_OF)),
            (
                "(c) hand-written floor, 1-30 events",
                mixed_cases,
                lambda c: hand_written(c, AS_OF, calendar),
            ),
        ],
    )
    a_20, c_20, b_20 = compare(
        args.rounds,
        [
            (
                f"(a) pack.assess(Case), {args.events_b} events",
                twenty_cases,
                lambda c: pack.assess(c, AS_OF),
            ),
            (
                f"(c) hand-written floor, {args.events_b} events",
                twenty_cases,
                lambda c: hand_written(c, AS_OF, calendar),
            ),
            (
                f"(b) JSON text in -> JSON text out, {args.events_b} events",
                twenty_json,
                lambda t: pack.assess_json(t, AS_OF),
            ),
        ],
    )
    # Issue 10 measures the ratio at 20 events; 1-30 events is given a verdict of its own.
    print(
        f"(a)/(c) cost ratio: {c_20 / a_20:.2f}x ({args.events_b} events); target <= 2x: "
        f"{_verdict(c_20 / a_20 <= 2.0)}; {c_mix / a_mix:.2f}x (1-30 events): "
        + _verdict(c_mix / a_mix <= 2.0)
    )
    print(
        f"(b) {b_20:,.0f} cases/s for {args.events_b}-event histories: "
        f"{b_20 / TODAY_JSON:.2f}x the 3,760/s of issue 10; target >= 2x: "
        + _verdict(b_20 >= 2 * TODAY_JSON)
    )
    offset_times(pack, twenty, args.rounds)
    linearity(args.quick)
    cold_load()


TODAY_JSON = 3_760  # JSON in to JSON out, 20 events, when issue 10 was written


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def offset_times(pack: fc.Pack, cases: list[dict[str, Any]], rounds: int) -> None:
    """(d) The same cases read with every time given with its offset, then without."""

    def texts(naive: bool) -> list[str]:
        result = []
        for case in cases:
            events = []
            for event in case["events"]:
                at = datetime.fromisoformat(event["at"])
                local = (at if at.tzinfo else at.replace(tzinfo=UK)).astimezone(UK)
                shown = local.replace(tzinfo=None) if naive else local
                events.append({**event, "at": shown.isoformat()})
            result.append(json.dumps({**case, "events": events}))
        return result

    with_offset, without = compare(
        rounds,
        [
            ("(d) parse, every time with an offset", texts(False), fc.parse_case),
            ("(d) parse, every time without one (UK local)", texts(True), fc.parse_case),
        ],
    )
    ratio = with_offset / without
    print(f"(d) without/with offset cost ratio {ratio:.2f}x; target <= 1.10x: "
          + _verdict(ratio <= 1.10))  # fmt: skip


def linearity(quick: bool) -> None:
    """(e) One long history per pack: 10,000 events against 1,000."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bench_large import history

    worst = 0.0
    for pack_id in fc.bundled_ids():
        pack = fc.load_pack(pack_id)
        cost = {}
        for size in (1_000, 10_000):
            case = fc.parse_case({"case_id": "L", "events": history(size, "mixed")})
            best = float("inf")
            for _ in range(2 if quick else (3 if size == 10_000 else 10)):
                started = time.perf_counter()
                pack.assess(case, AS_OF)
                best = min(best, time.perf_counter() - started)
            cost[size] = best
        ratio = cost[10_000] / cost[1_000]
        worst = max(worst, ratio)
        print(f"(e) {pack_id:<12} 1,000 events {cost[1_000] * 1000:6.1f} ms, 10,000 events "
              f"{cost[10_000] * 1000:6.1f} ms: {ratio:5.1f}x")  # fmt: skip
    print(f"(e) worst 10,000/1,000 ratio {worst:.1f}x; target <= 12x: " + _verdict(worst <= 12))


def cold_load() -> None:
    """(f) `load_pack` in a fresh process (after `import failedcontact`), best of three."""
    code = (
        "import time, failedcontact as fc, sys\n"
        "t = time.perf_counter(); fc.load_pack(sys.argv[1])\n"
        "print(time.perf_counter() - t)\n"
    )
    worst = 0.0
    for pack_id in fc.bundled_ids():
        command = [sys.executable, "-c", code, pack_id]
        runs = [
            float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            for _ in range(3)
        ]
        worst = max(worst, min(runs))
        print(f"(f) cold load_pack {pack_id:<12} {min(runs) * 1000:5.1f} ms")
    print(f"(f) slowest cold load {worst * 1000:.0f} ms; target < 60 ms: "
          + _verdict(worst < 0.060))  # fmt: skip


if __name__ == "__main__":
    main()
