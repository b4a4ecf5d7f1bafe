"""Every diagnostic and problem code the library emits, each with a one-line explanation.

A code is a `Code` member, never text written where it is emitted; docs/errors.md is
generated from this table, and a test checks that every member is emitted somewhere.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """A stable code; `meaning` is its explanation in docs/errors.md."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Code:
        code = str.__new__(cls, value)
        code._value_ = value
        code.meaning = meaning
        return code

    # reading a pack file
    PACK_NOT_FOUND = (
        "pack.not-found",
        "The pack file does not exist, is not a regular file or cannot be read.",
    )
    PACK_UNKNOWN = "pack.unknown", "A pack id names no working-tree or bundled pack."
    PACK_TOO_LARGE = (
        "pack.too-large",
        "The file is over a size, nesting, alias or node limit (docs/reliability.md).",
    )
    PACK_YAML = "pack.yaml", "The text is not plain YAML (a syntax error, a tag or a merge key)."
    PACK_DUPLICATE_KEY = "pack.duplicate-key", "A key appears twice in one mapping."
    PACK_DUPLICATE_RELEASE = (
        "pack.duplicate-release",
        "Two files in a folder of pack releases give one pack id and version different contents.",
    )
    PACK_NOT_A_PACK = (
        "pack.not-a-pack",
        "The file is not a policy pack (not UTF-8, or none of a pack's keys).",
    )
    PACK_FMT_COMMENT = (
        "pack.fmt-comment",
        "`fmt` would drop a comment written inside `{...}` or `[...]`.",
    )

    # the schema
    PACK_SCHEMA = (
        "pack.schema",
        "A value has the wrong type, is out of range or is not one of the choices.",
    )
    PACK_UNKNOWN_FIELD = (
        "pack.unknown-field",
        "A field the pack format does not have (often a typo).",
    )
    PACK_MISSING_FIELD = "pack.missing-field", "A required field is missing."

    # references between parts
    PACK_ACTION_ID = "pack.action-id", "A pack's own action id is not prefixed with the pack id."
    PACK_PATTERN_ID = "pack.pattern-id", "A pack's own pattern id is not prefixed with the pack id."
    PACK_UNKNOWN_ACTION = (
        "pack.unknown-action",
        "A rule or duty requires an action the pack does not define.",
    )
    PACK_UNKNOWN_CONTACTS = (
        "pack.unknown-contacts",
        "An action names a contact group the pack does not define.",
    )
    PACK_UNKNOWN_TRIGGER = (
        "pack.unknown-trigger",
        "A rule is triggered by something that is not an event type, `failed_contact` or `as_of`.",
    )
    PACK_UNKNOWN_OUTCOME = "pack.unknown-outcome", "An outcome that the event type does not have."
    PACK_UNKNOWN_DUTY = (
        "pack.unknown-duty",
        "A rule `on: [duty_overdue]` names no duty, or one the pack does not define, or has "
        "other triggers too.",
    )
    PACK_UNKNOWN_SECTION = (
        "pack.unknown-section",
        "A citation names a section that is not in `source.sections`.",
    )
    PACK_UNKNOWN_FACT = "pack.unknown-fact", "A condition tests a fact the engine does not know."
    PACK_UNKNOWN_OPERATOR = (
        "pack.unknown-operator",
        "A condition uses an operator the engine does not know.",
    )
    PACK_UNKNOWN_VALUE = (
        "pack.unknown-value",
        "A value that is not one of its fact's values (or not a count scope).",
    )
    PACK_CITATION = "pack.citation", "A citation does not start with the pack id and a section."
    PACK_CALENDAR = (
        "pack.calendar",
        "The calendar's country or subdivision is not one `holidays` knows.",
    )
    PACK_CATEGORY = "pack.category", "A shared action is given a category other than its fixed one."
    PACK_MISSING_CATEGORY = "pack.missing-category", "A pack's own action has no category."
    PACK_DUPLICATE_ID = (
        "pack.duplicate-id",
        "Two rules, duties, patterns or closure conditions share an id.",
    )
    PACK_DUPLICATE_OUTCOME = (
        "pack.duplicate-outcome",
        "One outcome is counted as two kinds of failed contact.",
    )
    PACK_SEEN_OUTCOME = (
        "pack.seen-outcome",
        "An outcome that means the child was seen is counted as failed.",
    )
    PACK_PATTERN_KIND = "pack.pattern-kind", "A pattern needs exactly one of `count` or `sequence`."
    PACK_CONDITION = (
        "pack.condition",
        "A condition is not a mapping of facts, `all`, `any`, `not` or `count`.",
    )
    PACK_CONDITION_TYPE = (
        "pack.condition-type",
        "A condition's value has the wrong type for its fact or operator.",
    )
    PACK_OPERATOR_TYPE = "pack.operator-type", "An operator that does not apply to the fact's kind."
    PACK_FACT_CONTEXT = (
        "pack.fact-context",
        "A fact used where it has no value (such as an event field at `as_of`).",
    )
    PACK_WINDOW = (
        "pack.window",
        "A `within` window is not one of `{days: N}`, `{months: N}`, `{years: N}`.",
    )
    PACK_UNCOVERED_SECTION = (
        "pack.uncovered-section",
        "A source section that nothing encodes and that has no not-actionable reason (a warning).",
    )

    # static analysis (check and load)
    ANALYSIS_UNSATISFIABLE = (
        "analysis.unsatisfiable",
        "A rule, duty or pattern whose condition no case can meet.",
    )
    ANALYSIS_SUBSUMED = (
        "analysis.subsumed",
        "A rule that only ever fires together with one requiring the same actions (a warning).",
    )
    ANALYSIS_CONFLICT = (
        "analysis.conflict",
        "Two rules that fire together give one action different deadlines or owners (a warning).",
    )
    ANALYSIS_SHADOWED_RISK = (
        "analysis.shadowed-risk",
        "A risk rule an earlier rule always pre-empts (a warning).",
    )
    ANALYSIS_UNUSED_ACTION = (
        "analysis.unused-action",
        "An action no rule or duty requires (a warning).",
    )
    ANALYSIS_UNUSED_CONTACTS = (
        "analysis.unused-contacts",
        "A contact group no action names (a warning).",
    )
    ANALYSIS_UNUSED_FLAG = "analysis.unused-flag", "A declared flag no condition reads (a warning)."
    ANALYSIS_NO_CITATION = (
        "analysis.no-citation",
        "An action with no citation of the guidance (a warning).",
    )
    ANALYSIS_OWN_MEANS_SHARED = (
        "analysis.own-means-shared",
        "A pack's own action that means the same as a shared one (a warning).",
    )
    ANALYSIS_BUDGET = (
        "analysis.budget",
        "The analysis stopped at its budget; later rules were not compared (a warning).",
    )

    # scenario files
    SCENARIO_UNREADABLE = "scenario.unreadable", "The scenario file cannot be read or is not UTF-8."
    SCENARIO_YAML = "scenario.yaml", "The scenario file is not plain YAML."
    SCENARIO_DUPLICATE_KEY = (
        "scenario.duplicate-key",
        "A key appears twice in one mapping of a scenario file.",
    )
    SCENARIO_TOO_LARGE = "scenario.too-large", "The scenario file is over a size or nesting limit."
    SCENARIO_SCHEMA = (
        "scenario.schema",
        "A scenario value has the wrong type or is not one of the choices.",
    )
    SCENARIO_UNKNOWN_FIELD = (
        "scenario.unknown-field",
        "A field the scenario format does not have (often a typo).",
    )
    SCENARIO_MISSING_FIELD = "scenario.missing-field", "A required scenario field is missing."
    SCENARIO_ASSERTS_NOTHING = (
        "scenario.asserts-nothing",
        "A scenario whose `expect` checks nothing would always pass.",
    )

    # mapping files (FHIR and table exports: docs/interop.md)
    MAPPING_NOT_FOUND = (
        "mapping.not-found",
        "The mapping file does not exist or cannot be read, or no bundled mapping has that id.",
    )
    MAPPING_YAML = (
        "mapping.yaml",
        "The mapping file is not plain YAML (a syntax error, a tag or a merge key).",
    )
    MAPPING_DUPLICATE_KEY = (
        "mapping.duplicate-key",
        "A key appears twice in one mapping of a mapping file.",
    )
    MAPPING_TOO_LARGE = (
        "mapping.too-large",
        "The mapping file is over a size, nesting or alias limit.",
    )
    MAPPING_KIND = (
        "mapping.kind",
        "The file does not start with `mapping: fhir` or `mapping: table`.",
    )
    MAPPING_SCHEMA = (
        "mapping.schema",
        "A mapping value has the wrong type or is not one of the choices.",
    )
    MAPPING_UNKNOWN_FIELD = (
        "mapping.unknown-field",
        "A field the mapping format does not have (often a typo).",
    )
    MAPPING_MISSING_FIELD = (
        "mapping.missing-field",
        "A required field is missing (every FHIR entry needs a `source`).",
    )
    MAPPING_VALUE = (
        "mapping.value",
        "A code maps to an event type, field or value the contract does not have, or is listed "
        "twice.",
    )

    # the HTTP service's problems (docs/service.md) and a refused case
    CASE_INVALID = (
        "case.invalid",
        "A case the contract or the pack refuses: the problem lists each field path and what was "
        "expected.",
    )
    SERVICE_UNAUTHORIZED = (
        "service.unauthorized",
        "No bearer token, or one the service does not know.",
    )
    SERVICE_FORBIDDEN = (
        "service.forbidden",
        "The token is known but may not use this route (reloading packs needs an admin token).",
    )
    SERVICE_TOO_LARGE = "service.too-large", "The request body is over the service's size limit."
    SERVICE_NOT_FOUND = (
        "service.not-found",
        "No such route, or no pack release with that id and version.",
    )
    SERVICE_METHOD = "service.method", "The route does not take this HTTP method."
    SERVICE_BAD_REQUEST = (
        "service.bad-request",
        "The request is malformed: a query parameter or header is missing or not valid.",
    )
    SERVICE_TIMEOUT = (
        "service.timeout",
        "The request body stopped arriving for longer than the service's body timeout.",
    )
    SERVICE_INTERNAL = (
        "service.internal",
        "The service failed unexpectedly; the log has the request id, never the case.",
    )
    SERVICE_RELOAD_REFUSED = (
        "service.reload-refused",
        "A reload found a pack that does not load; the packs being served stay as they were.",
    )


# The catalogue as the docs and tools read it: every code with its explanation, in order.
CODES: dict[Code, str] = {code: code.meaning for code in Code}
