"""Shared fixtures: the bundled North Lincolnshire pack and a minimal pack text to break."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import failedcontact as fc

MINIMAL_PACK = """\
id: demo
title: Demo pack
area: Demo
version: 1.0.0
source:
  title: Demo guidance
  issued: "2020-01"
  sections:
    - {id: "1", title: One}
calendar: {country: GB, subdivision: ENG}
flags:
  demo_flag: a flag for tests
contacts:
  harm:
    default:
      - {name: Demo duty team, phone: "0100 000000"}
    luton:
      - {name: Luton team, phone: "0100 111111"}
failed_contacts:
  no_access:
    name: no access
    outcomes: [home_visit.no_response, appointment.not_brought]
risk:
  rules:
    - {tier: high, when: {plan: child_protection}, reason: cp plan}
  otherwise: {tier: low, reason: nothing known}
actions:
  offer_further_appointment:
    title: Offer another appointment
    owner: practitioner
    deadline: {working_days: 5}
    citation: demo 1
  report_significant_harm:
    title: Report it
    owner: practitioner
    deadline: immediately
    contacts: harm
  demo.call_back:
    title: Call back within a day
    owner: practitioner
    category: call
    deadline: {hours: 24}
rules:
  - id: first
    citation: demo 1, first
    on: [failed_contact]
    when: {failed_contacts: 1}
    require: [offer_further_appointment, demo.call_back]
  - id: harm
    citation: demo 1, harm
    on: [concern]
    when: {concern_level: significant_harm}
    require: [report_significant_harm]
"""


@pytest.fixture(scope="session")
def north_lincs() -> fc.Pack:
    return fc.load_pack("north_lincs")


@pytest.fixture()
def write_pack(tmp_path):  # type: ignore[no-untyped-def]
    def write(text: str, name: str = "pack.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# Property tests: a quick `ci` profile by default; `HYPOTHESIS_PROFILE=nightly` for depth.
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
