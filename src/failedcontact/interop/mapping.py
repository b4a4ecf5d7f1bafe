"""Mapping files: a source system's codes to the contract's events and case fields, as data.

A mapping is YAML, like a pack: read safely, validated by frozen models, every problem
reported with file, line and column (codes `mapping.*`), and compiled once into lookup
tables. Two kinds: `mapping: fhir` (FHIR R4 bundles, failedcontact.fhir) and
`mapping: table` (a case system's CSV or Parquet export, failedcontact.tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..codes import Code
from ..errors import Diagnostic, MappingError, did_you_mean, one_of
from ..model.vocabulary import AppointmentOutcome
from ..pack.schema import SchemaCodes, validation_diagnostics
from ..source.locate import bundled_folder
from ..source.reader import FileKind, Located, read_source
from .mapping_table import Column as Column
from .mapping_table import TableMapping as TableMapping
from .mapping_table import TableMappingDocument, compile_table
from .mapping_values import (
    EVENT_MODELS,
    case_field_problem,
    case_fields,
    event_field_problem,
    event_template_problems,
)

_MAPPING_SCHEMA = SchemaCodes(
    Code.MAPPING_UNKNOWN_FIELD, Code.MAPPING_MISSING_FIELD, Code.MAPPING_SCHEMA
)

MAPPINGS = "mappings"

_DOC = ConfigDict(frozen=True, extra="forbid")
Text = Annotated[str, Field(min_length=1)]


class Side(StrEnum):
    """Who cancelled an appointment."""

    FAMILY = "family"
    SERVICE = "service"


class Resource(StrEnum):
    """FHIR resource types whose codes a mapping rule can match."""

    ENCOUNTER = "Encounter"
    FLAG = "Flag"
    SERVICE_REQUEST = "ServiceRequest"
    COMMUNICATION = "Communication"
    TASK = "Task"
    OBSERVATION = "Observation"
    CARE_PLAN = "CarePlan"
    CARE_TEAM = "CareTeam"
    EPISODE_OF_CARE = "EpisodeOfCare"
    CONDITION = "Condition"


# What a rule on each resource type can do: a rule with any other effect would do nothing.
EFFECTS: dict[Resource, frozenset[str]] = {
    Resource.ENCOUNTER: frozenset({"event"}),
    Resource.FLAG: frozenset({"event", "set"}),
    Resource.SERVICE_REQUEST: frozenset({"event"}),
    Resource.COMMUNICATION: frozenset({"event"}),
    Resource.TASK: frozenset({"event"}),
    Resource.OBSERVATION: frozenset({"value_to"}),
    Resource.CARE_PLAN: frozenset({"set"}),
    Resource.CARE_TEAM: frozenset({"set"}),
    Resource.EPISODE_OF_CARE: frozenset({"set"}),
    Resource.CONDITION: frozenset({"set"}),
}


class AppointmentStatusRule(BaseModel):
    """What an `Appointment.status` means: an outcome, look at the reason, or not a contact."""

    model_config = _DOC
    outcome: AppointmentOutcome | None = None
    by_cancellation_reason: bool = False
    skip: Text | None = Field(None, description="Why this status is not a contact.")
    source: Text

    @model_validator(mode="after")
    def _one_meaning(self) -> AppointmentStatusRule:
        given = [self.outcome is not None, self.by_cancellation_reason, self.skip is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of `outcome`, `by_cancellation_reason`, `skip`")
        return self


class CancellationReasonRule(BaseModel):
    """Cancellation reason codes and which side of the appointment they belong to."""

    model_config = _DOC
    system: Text
    codes: tuple[Text, ...] = Field(min_length=1)
    side: Side
    source: Text


class EncounterClassRule(BaseModel):
    """An `Encounter.class` that makes the encounter a home visit, call or appointment."""

    model_config = _DOC
    system: Text
    codes: tuple[Text, ...] = Field(min_length=1)
    event: Literal["home_visit", "call", "appointment"]
    finished: str | None = Field(
        None,
        description="The outcome of a finished encounter of this class with no outcome code "
        "(an appointment that took place is `attended`); none: such an encounter is an error.",
    )
    source: Text


class CodeRule(BaseModel):
    """A code on a resource to event fields (`event`), case fields (`set`) or a value's field."""

    model_config = _DOC
    resource: Resource
    system: Text
    codes: tuple[Text, ...] = Field(min_length=1, description="`*` matches any code.")
    event: dict[str, Any] | None = None
    code_as: Text | None = Field(None, description="The event field the code itself fills.")
    set: dict[str, Any] | None = None
    value_to: Text | None = Field(None, description="The case field an Observation's value fills.")
    values: dict[str, Any] | None = Field(None, description="Value codes to field values.")
    classes: tuple[Text, ...] | None = Field(
        None, description="Encounter only: the rule applies to these `Encounter.class` codes."
    )
    weak: bool = Field(
        False, description="`set` only: the fields are set only when no other resource sets them."
    )
    source: Text

    @property
    def effect(self) -> str:
        """`event`, `set` or `value_to`: what the rule does."""
        if self.event is not None:
            return "event"
        return "set" if self.set is not None else "value_to"

    @model_validator(mode="after")
    def _one_effect(self) -> CodeRule:
        effects = [self.event is not None, self.set is not None, self.value_to is not None]
        if sum(effects) != 1:
            raise ValueError("give exactly one of `event`, `set`, `value_to`")
        return self


class CaseIdRule(BaseModel):
    """Where the case id comes from: a Patient identifier system, or the Patient's id."""

    model_config = _DOC
    identifier_system: Text | None = None
    other_systems: tuple[Text, ...] = Field(
        (), description="Identifier systems tried in order when the first gives no id."
    )


class FhirMappingDocument(BaseModel):
    """A FHIR R4 bundle mapping, as written in YAML."""

    model_config = _DOC
    mapping: Literal["fhir"]
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    version: Text
    title: Text
    case_id: CaseIdRule = CaseIdRule()
    defaults: dict[str, Any] = Field(default_factory=dict)
    local_authorities: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        default_factory=dict
    )
    local_authority_postcodes: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = (
        Field(
            default_factory=dict,
            description="Postcode prefixes (`DN15`, `LU1`) to local authorities; the longest wins.",
        )
    )
    appointment_status: dict[str, AppointmentStatusRule]
    cancellation_reasons: tuple[CancellationReasonRule, ...] = ()
    encounter_classes: tuple[EncounterClassRule, ...] = ()
    codes: tuple[CodeRule, ...] = ()


# --- compiled forms -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FhirMapping:
    """A checked FHIR mapping with its codes indexed for lookup."""

    document: FhirMappingDocument
    file: str
    cancellation: Mapping[tuple[str, str], Side]
    classes: Mapping[tuple[str, str], EncounterClassRule]
    rules: Mapping[tuple[Resource, str, str], tuple[CodeRule, ...]]

    @property
    def id(self) -> str:
        """The mapping's id."""
        return self.document.id

    def reads(self, resource: str) -> bool:
        """Whether any code rule matches codes on this resource type."""
        return any(key[0] == resource for key in self.rules)

    def rule(
        self, resource: Resource, system: str | None, code: str | None, klass: str | None = None
    ) -> CodeRule | None:
        """The rule for a coding on a resource (an exact code before `*`), if any; a rule
        limited to some Encounter classes applies only to those (`klass`)."""
        for key in ((resource, system or "", code or ""), (resource, system or "", "*")):
            for rule in self.rules.get(key, ()):
                if rule.classes is None or klass in rule.classes:
                    return rule
        return None


AnyMapping = FhirMapping | TableMapping

# --- loading --------------------------------------------------------------------------------


def bundled_mapping_dir() -> Path:
    """The folder of bundled mappings."""
    return bundled_folder(MAPPINGS)


def bundled_mapping_ids() -> list[str]:
    """The ids of the bundled mappings, sorted."""
    return sorted(p.stem for p in bundled_mapping_dir().glob("*.yaml"))


def load_mapping(name: str | Path | None = None, *, text: str | None = None) -> AnyMapping:
    """Load a mapping by bundled id (`fhir_uk_core`), path or `text`; raise `MappingError`."""
    result = check_mapping(name, text=text)
    if isinstance(result, list):
        raise MappingError(result)
    return result


def check_mapping(
    name: str | Path | None = None, *, text: str | None = None
) -> AnyMapping | list[Diagnostic]:
    """The compiled mapping, or every problem found in it."""
    if text is None:
        if name is None:
            raise MappingError([Diagnostic(Code.MAPPING_NOT_FOUND, "no mapping given", "", 0, 0)])
        path = Path(name)
        if not path.suffix and not path.exists():
            path = bundled_mapping_dir() / f"{name}.yaml"
            if not path.is_file():
                ids = bundled_mapping_ids()
                return [
                    Diagnostic(
                        Code.MAPPING_NOT_FOUND,
                        f"unknown mapping `{name}`",
                        str(name),
                        0,
                        0,
                        did_you_mean(str(name), ids) or f"bundled mappings: {one_of(ids)}",
                    )
                ]
        located = read_source(FileKind.MAPPING, path)
    else:
        file = str(name) if name is not None else "<mapping>"
        located = read_source(FileKind.MAPPING, file, text=text)
    if isinstance(located, Diagnostic):
        return [located]
    return _check_located(located)


_KINDS: dict[str, type[BaseModel]] = {"fhir": FhirMappingDocument, "table": TableMappingDocument}


def _check_located(source: Located) -> AnyMapping | list[Diagnostic]:
    data = source.data
    if not isinstance(data, dict) or data.get("mapping") not in _KINDS:
        given = data.get("mapping") if isinstance(data, dict) else None
        return [
            source.diagnostic(
                Code.MAPPING_KIND,
                "a mapping file starts with `mapping: fhir` or `mapping: table`"
                + (f" (got `{given}`)" if given is not None else ""),
                ("mapping",) if given is not None else (),
                did_you_mean(str(given), _KINDS) if given is not None else None,
            )
        ]
    model = _KINDS[data["mapping"]]
    try:
        document = model.model_validate(data)
    except ValidationError as error:
        return validation_diagnostics(source, error, model, _MAPPING_SCHEMA, "the mapping")
    if isinstance(document, FhirMappingDocument):
        return _compile_fhir(source, document)
    assert isinstance(document, TableMappingDocument)
    return compile_table(source, document)


def _compile_fhir(source: Located, document: FhirMappingDocument) -> AnyMapping | list[Diagnostic]:
    problems: list[Diagnostic] = []

    def report(path: tuple[str | int, ...], message: str, help_line: str | None = None) -> None:
        problems.append(source.diagnostic(Code.MAPPING_VALUE, message, path, help_line))

    for field, value in document.defaults.items():
        problem = case_field_problem(field, value)
        if problem:
            report(("defaults", field), *problem)
    cancellation: dict[tuple[str, str], Side] = {}
    for index, reason in enumerate(document.cancellation_reasons):
        for code in reason.codes:
            if (reason.system, code) in cancellation:
                report(("cancellation_reasons", index), f"code `{code}` is listed twice")
            cancellation[(reason.system, code)] = reason.side
    if any(rule.by_cancellation_reason for rule in document.appointment_status.values()) and (
        not cancellation
    ):
        report(
            ("appointment_status",),
            "a status looks at the cancellation reason, but `cancellation_reasons` lists none",
        )
    classes: dict[tuple[str, str], EncounterClassRule] = {}
    for index, klass in enumerate(document.encounter_classes):
        if klass.finished is not None:
            problem = event_field_problem([klass.event], "outcome", klass.finished)
            if problem:
                report(("encounter_classes", index, "finished"), *problem)
        for code in klass.codes:
            if (klass.system, code) in classes:
                report(("encounter_classes", index), f"class `{code}` is listed twice")
            classes[(klass.system, code)] = klass
    rules: dict[tuple[Resource, str, str], tuple[CodeRule, ...]] = {}
    for index, rule in enumerate(document.codes):
        where = ("codes", index)
        types: list[str] = sorted(
            {
                str(klass.event)
                for (_, code), klass in classes.items()
                if rule.classes is None or code in rule.classes
            }
        )
        _check_rule(rule, types or ["home_visit", "call", "appointment"], where, report)
        _check_scope(rule, {code for _, code in classes}, where, report)
        for code in rule.codes:
            key = (rule.resource, rule.system, code)
            if any(_overlap(rule, held) for held in rules.get(key, ())):
                report((*where, "codes"), f"`{rule.resource}` code `{code}` is mapped twice")
            rules[key] = (*rules.get(key, ()), rule)
    if problems:
        return problems
    return FhirMapping(document, source.file, cancellation, classes, rules)


def _overlap(first: CodeRule, second: CodeRule) -> bool:
    if first.classes is None or second.classes is None:
        return True
    return bool(set(first.classes) & set(second.classes))


def _check_scope(
    rule: CodeRule, classes: set[str], where: tuple[str | int, ...], report: Any
) -> None:
    """Refuse a rule that could have no effect: one its resource's reader never applies."""
    allowed = EFFECTS[rule.resource]
    if rule.effect not in allowed:
        report(
            (*where, rule.effect),
            f"a `{rule.resource}` rule with `{rule.effect}` would have no effect",
            f"a `{rule.resource}` rule takes {one_of(sorted(allowed))}",
        )
    if rule.weak and rule.effect != "set":
        report((*where, "weak"), "`weak` goes with `set`")
    if rule.classes is not None:
        if rule.resource is not Resource.ENCOUNTER:
            report((*where, "classes"), "`classes` limits Encounter rules only")
        for code in rule.classes:
            if code not in classes:
                report(
                    (*where, "classes"),
                    f"class `{code}` is not listed under `encounter_classes`",
                    f"expected one of {one_of(sorted(classes))}" if classes else None,
                )


def _check_rule(
    rule: CodeRule,
    encounter_types: list[str],
    where: tuple[str | int, ...],
    report: Any,
) -> None:
    codes = [code for code in rule.codes if code != "*"]
    if rule.event is not None:
        encounter = rule.resource is Resource.ENCOUNTER
        if encounter and "type" in rule.event:
            report(
                (*where, "event", "type"),
                "an Encounter's event type comes from its class",
                "list the class under `encounter_classes`",
            )
        types = encounter_types if encounter else None
        for path, message, help_line in event_template_problems(rule.event, types):
            report((*where, "event", *path), message, help_line)
        if rule.code_as:
            event_type = rule.event.get("type")
            fits = [str(event_type)] if event_type in EVENT_MODELS else encounter_types
            for code in codes:
                problem = event_field_problem(fits, rule.code_as, code)
                if problem:
                    report((*where, "code_as"), *problem)
                    break
    elif rule.set is not None:
        for field, value in rule.set.items():
            problem = case_field_problem(field, value)
            if problem:
                report((*where, "set", field), *problem)
        if rule.code_as:
            for code in codes or ["x"]:
                problem = case_field_problem(rule.code_as, code)
                if problem:
                    report((*where, "code_as"), *problem)
                    break
    elif rule.value_to is not None:
        if rule.code_as:
            report((*where, "code_as"), "`code_as` goes with `event` or `set`, not `value_to`")
        if rule.value_to not in case_fields():
            report(
                (*where, "value_to"),
                f"unknown case field `{rule.value_to}`",
                did_you_mean(rule.value_to, case_fields()),
            )
        else:
            for code, value in (rule.values or {}).items():
                problem = case_field_problem(rule.value_to, value)
                if problem:
                    report((*where, "values", code), *problem)


def mapping_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file (either kind)."""
    adapter: TypeAdapter[Any] = TypeAdapter(
        Annotated[FhirMappingDocument | TableMappingDocument, Field(discriminator="mapping")]
    )
    schema = adapter.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "failedcontact mapping file"
    return schema
