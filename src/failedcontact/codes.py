"""Every diagnostic code the library emits, each with a one-line explanation.

docs/errors.md is generated from this table, and a test checks that every code the source
can emit is listed here.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """A diagnostic or problem code: stable, documented in docs/errors.md."""

    PACK_NOT_FOUND = "pack.not-found"
    PACK_UNKNOWN = "pack.unknown"
    PACK_TOO_LARGE = "pack.too-large"
    PACK_YAML = "pack.yaml"
    PACK_DUPLICATE_KEY = "pack.duplicate-key"
    PACK_DUPLICATE_RELEASE = "pack.duplicate-release"
    PACK_NOT_A_PACK = "pack.not-a-pack"
    PACK_FMT_COMMENT = "pack.fmt-comment"
    PACK_SCHEMA = "pack.schema"
    PACK_UNKNOWN_FIELD = "pack.unknown-field"
    PACK_MISSING_FIELD = "pack.missing-field"
    PACK_ACTION_ID = "pack.action-id"
    PACK_PATTERN_ID = "pack.pattern-id"
    PACK_UNKNOWN_ACTION = "pack.unknown-action"
    PACK_UNKNOWN_CONTACTS = "pack.unknown-contacts"
    PACK_UNKNOWN_TRIGGER = "pack.unknown-trigger"
    PACK_UNKNOWN_OUTCOME = "pack.unknown-outcome"
    PACK_UNKNOWN_SECTION = "pack.unknown-section"
    PACK_UNKNOWN_FACT = "pack.unknown-fact"
    PACK_UNKNOWN_OPERATOR = "pack.unknown-operator"
    PACK_UNKNOWN_VALUE = "pack.unknown-value"
    PACK_CITATION = "pack.citation"
    PACK_CALENDAR = "pack.calendar"
    PACK_CATEGORY = "pack.category"
    PACK_MISSING_CATEGORY = "pack.missing-category"
    PACK_DUPLICATE_ID = "pack.duplicate-id"
    PACK_DUPLICATE_OUTCOME = "pack.duplicate-outcome"
    PACK_SEEN_OUTCOME = "pack.seen-outcome"
    PACK_PATTERN_KIND = "pack.pattern-kind"
    PACK_CONDITION = "pack.condition"
    PACK_CONDITION_TYPE = "pack.condition-type"
    PACK_OPERATOR_TYPE = "pack.operator-type"
    PACK_FACT_CONTEXT = "pack.fact-context"
    PACK_WINDOW = "pack.window"
    PACK_UNCOVERED_SECTION = "pack.uncovered-section"
    ANALYSIS_UNSATISFIABLE = "analysis.unsatisfiable"
    ANALYSIS_SUBSUMED = "analysis.subsumed"
    ANALYSIS_CONFLICT = "analysis.conflict"
    ANALYSIS_SHADOWED_RISK = "analysis.shadowed-risk"
    ANALYSIS_UNUSED_ACTION = "analysis.unused-action"
    ANALYSIS_UNUSED_CONTACTS = "analysis.unused-contacts"
    ANALYSIS_UNUSED_FLAG = "analysis.unused-flag"
    ANALYSIS_NO_CITATION = "analysis.no-citation"
    ANALYSIS_OWN_MEANS_SHARED = "analysis.own-means-shared"
    ANALYSIS_BUDGET = "analysis.budget"
    SCENARIO_UNREADABLE = "scenario.unreadable"
    SCENARIO_YAML = "scenario.yaml"
    SCENARIO_DUPLICATE_KEY = "scenario.duplicate-key"
    SCENARIO_TOO_LARGE = "scenario.too-large"
    SCENARIO_SCHEMA = "scenario.schema"
    SCENARIO_UNKNOWN_FIELD = "scenario.unknown-field"
    SCENARIO_MISSING_FIELD = "scenario.missing-field"
    SCENARIO_ASSERTS_NOTHING = "scenario.asserts-nothing"
    MAPPING_NOT_FOUND = "mapping.not-found"
    MAPPING_YAML = "mapping.yaml"
    MAPPING_DUPLICATE_KEY = "mapping.duplicate-key"
    MAPPING_TOO_LARGE = "mapping.too-large"
    MAPPING_KIND = "mapping.kind"
    MAPPING_SCHEMA = "mapping.schema"
    MAPPING_UNKNOWN_FIELD = "mapping.unknown-field"
    MAPPING_MISSING_FIELD = "mapping.missing-field"
    MAPPING_VALUE = "mapping.value"
    CASE_INVALID = "case.invalid"
    SERVICE_BAD_REQUEST = "service.bad-request"
    SERVICE_FORBIDDEN = "service.forbidden"
    SERVICE_INTERNAL = "service.internal"
    SERVICE_METHOD = "service.method"
    SERVICE_NOT_FOUND = "service.not-found"
    SERVICE_RELOAD_REFUSED = "service.reload-refused"
    SERVICE_TOO_LARGE = "service.too-large"
    SERVICE_UNAUTHORIZED = "service.unauthorized"


CODES: dict[Code, str] = {
    # reading a pack file
    Code.PACK_NOT_FOUND: "The pack file does not exist, is not a regular file or cannot be read.",
    Code.PACK_UNKNOWN: "A pack id names no working-tree or bundled pack.",
    Code.PACK_TOO_LARGE: "The file is over a size, nesting, alias or node limit "
    "(docs/reliability.md).",
    Code.PACK_YAML: "The text is not plain YAML (a syntax error, a tag or a merge key).",
    Code.PACK_DUPLICATE_KEY: "A key appears twice in one mapping.",
    Code.PACK_DUPLICATE_RELEASE: "Two files in a folder of pack releases give one pack id and "
    "version different contents.",
    Code.PACK_NOT_A_PACK: "The file is not a policy pack (not UTF-8, or none of a pack's keys).",
    Code.PACK_FMT_COMMENT: "`fmt` would drop a comment written inside `{...}` or `[...]`.",
    # the schema
    Code.PACK_SCHEMA: "A value has the wrong type, is out of range or is not one of the choices.",
    Code.PACK_UNKNOWN_FIELD: "A field the pack format does not have (often a typo).",
    Code.PACK_MISSING_FIELD: "A required field is missing.",
    # references between parts
    Code.PACK_ACTION_ID: "A pack's own action id is not prefixed with the pack id.",
    Code.PACK_PATTERN_ID: "A pack's own pattern id is not prefixed with the pack id.",
    Code.PACK_UNKNOWN_ACTION: "A rule or duty requires an action the pack does not define.",
    Code.PACK_UNKNOWN_CONTACTS: "An action names a contact group the pack does not define.",
    Code.PACK_UNKNOWN_TRIGGER: "A rule is triggered by something that is not an event type, "
    "`failed_contact` or `as_of`.",
    Code.PACK_UNKNOWN_OUTCOME: "An outcome that the event type does not have.",
    Code.PACK_UNKNOWN_SECTION: "A citation names a section that is not in `source.sections`.",
    Code.PACK_UNKNOWN_FACT: "A condition tests a fact the engine does not know.",
    Code.PACK_UNKNOWN_OPERATOR: "A condition uses an operator the engine does not know.",
    Code.PACK_UNKNOWN_VALUE: "A value that is not one of its fact's values (or not a count scope).",
    Code.PACK_CITATION: "A citation does not start with the pack id and a section.",
    Code.PACK_CALENDAR: "The calendar's country or subdivision is not one `holidays` knows.",
    Code.PACK_CATEGORY: "A shared action is given a category other than its fixed one.",
    Code.PACK_MISSING_CATEGORY: "A pack's own action has no category.",
    Code.PACK_DUPLICATE_ID: "Two rules, duties, patterns or closure conditions share an id.",
    Code.PACK_DUPLICATE_OUTCOME: "One outcome is counted as two kinds of failed contact.",
    Code.PACK_SEEN_OUTCOME: "An outcome that means the child was seen is counted as failed.",
    Code.PACK_PATTERN_KIND: "A pattern needs exactly one of `count` or `sequence`.",
    Code.PACK_CONDITION: "A condition is not a mapping of facts, `all`, `any`, `not` or `count`.",
    Code.PACK_CONDITION_TYPE: "A condition's value has the wrong type for its fact or operator.",
    Code.PACK_OPERATOR_TYPE: "An operator that does not apply to the fact's kind.",
    Code.PACK_FACT_CONTEXT: "A fact used where it has no value (such as an event field at "
    "`as_of`).",
    Code.PACK_WINDOW: "A `within` window is not one of `{days: N}`, `{months: N}`, `{years: N}`.",
    Code.PACK_UNCOVERED_SECTION: "A source section that nothing encodes and that has no "
    "not-actionable reason (a warning).",
    # static analysis (check and load)
    Code.ANALYSIS_UNSATISFIABLE: "A rule, duty or pattern whose condition no case can meet.",
    Code.ANALYSIS_SUBSUMED: "A rule that only ever fires together with one requiring the same "
    "actions (a warning).",
    Code.ANALYSIS_CONFLICT: "Two rules that fire together give one action different deadlines "
    "or owners (a warning).",
    Code.ANALYSIS_SHADOWED_RISK: "A risk rule an earlier rule always pre-empts (a warning).",
    Code.ANALYSIS_UNUSED_ACTION: "An action no rule or duty requires (a warning).",
    Code.ANALYSIS_UNUSED_CONTACTS: "A contact group no action names (a warning).",
    Code.ANALYSIS_UNUSED_FLAG: "A declared flag no condition reads (a warning).",
    Code.ANALYSIS_NO_CITATION: "An action with no citation of the guidance (a warning).",
    Code.ANALYSIS_OWN_MEANS_SHARED: "A pack's own action that means the same as a shared one "
    "(a warning).",
    Code.ANALYSIS_BUDGET: "The analysis stopped at its budget; later rules were not compared "
    "(a warning).",
    # scenario files
    Code.SCENARIO_UNREADABLE: "The scenario file cannot be read or is not UTF-8.",
    Code.SCENARIO_YAML: "The scenario file is not plain YAML.",
    Code.SCENARIO_DUPLICATE_KEY: "A key appears twice in one mapping of a scenario file.",
    Code.SCENARIO_TOO_LARGE: "The scenario file is over a size or nesting limit.",
    Code.SCENARIO_SCHEMA: "A scenario value has the wrong type or is not one of the choices.",
    Code.SCENARIO_UNKNOWN_FIELD: "A field the scenario format does not have (often a typo).",
    Code.SCENARIO_MISSING_FIELD: "A required scenario field is missing.",
    Code.SCENARIO_ASSERTS_NOTHING: "A scenario whose `expect` checks nothing would always pass.",
    # mapping files (FHIR and table exports: docs/interop.md)
    Code.MAPPING_NOT_FOUND: "The mapping file does not exist or cannot be read, or no bundled "
    "mapping has that id.",
    Code.MAPPING_YAML: "The mapping file is not plain YAML (a syntax error, a tag or a merge key).",
    Code.MAPPING_DUPLICATE_KEY: "A key appears twice in one mapping of a mapping file.",
    Code.MAPPING_TOO_LARGE: "The mapping file is over a size, nesting or alias limit.",
    Code.MAPPING_KIND: "The file does not start with `mapping: fhir` or `mapping: table`.",
    Code.MAPPING_SCHEMA: "A mapping value has the wrong type or is not one of the choices.",
    Code.MAPPING_UNKNOWN_FIELD: "A field the mapping format does not have (often a typo).",
    Code.MAPPING_MISSING_FIELD: "A required field is missing (every FHIR entry needs a `source`).",
    Code.MAPPING_VALUE: "A code maps to an event type, field or value the contract does not have, "
    "or is listed twice.",
    # the HTTP service's problems (docs/service.md) and a refused case
    Code.CASE_INVALID: "A case the contract or the pack refuses: the problem lists each field "
    "path and what was expected.",
    Code.SERVICE_UNAUTHORIZED: "No bearer token, or one the service does not know.",
    Code.SERVICE_FORBIDDEN: "The token is known but may not use this route (reloading packs needs "
    "an admin token).",
    Code.SERVICE_TOO_LARGE: "The request body is over the service's size limit.",
    Code.SERVICE_NOT_FOUND: "No such route, or no pack release with that id and version.",
    Code.SERVICE_METHOD: "The route does not take this HTTP method.",
    Code.SERVICE_BAD_REQUEST: "The request is malformed: a query parameter or header is missing "
    "or not valid.",
    Code.SERVICE_INTERNAL: "The service failed unexpectedly; the log has the request id, never "
    "the case.",
    Code.SERVICE_RELOAD_REFUSED: "A reload found a pack that does not load; the packs being "
    "served stay as they were.",
}
