"""Every diagnostic code the library emits, each with a one-line explanation.

docs/errors.md is generated from this table, and a test checks that every code the source
can emit is listed here.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # reading a pack file
    "pack.not-found": "The pack file does not exist, is not a regular file or cannot be read.",
    "pack.unknown": "A pack id names no working-tree or bundled pack.",
    "pack.too-large": "The file is over a size, nesting, alias or node limit "
    "(docs/reliability.md).",
    "pack.yaml": "The text is not plain YAML (a syntax error, a tag or a merge key).",
    "pack.duplicate-key": "A key appears twice in one mapping.",
    "pack.duplicate-release": "Two files in a folder of pack releases give one pack id and "
    "version different contents.",
    "pack.not-a-pack": "The file is not a policy pack (not UTF-8, or none of a pack's keys).",
    "pack.fmt-comment": "`fmt` would drop a comment written inside `{...}` or `[...]`.",
    # the schema
    "pack.schema": "A value has the wrong type, is out of range or is not one of the choices.",
    "pack.unknown-field": "A field the pack format does not have (often a typo).",
    "pack.missing-field": "A required field is missing.",
    # references between parts
    "pack.action-id": "A pack's own action id is not prefixed with the pack id.",
    "pack.pattern-id": "A pack's own pattern id is not prefixed with the pack id.",
    "pack.unknown-action": "A rule or duty requires an action the pack does not define.",
    "pack.unknown-contacts": "An action names a contact group the pack does not define.",
    "pack.unknown-trigger": "A rule is triggered by something that is not an event type, "
    "`failed_contact` or `as_of`.",
    "pack.unknown-outcome": "An outcome that the event type does not have.",
    "pack.unknown-section": "A citation names a section that is not in `source.sections`.",
    "pack.unknown-fact": "A condition tests a fact the engine does not know.",
    "pack.unknown-operator": "A condition uses an operator the engine does not know.",
    "pack.unknown-value": "A value that is not one of its fact's values (or not a count scope).",
    "pack.citation": "A citation does not start with the pack id and a section.",
    "pack.calendar": "The calendar's country or subdivision is not one `holidays` knows.",
    "pack.category": "A shared action is given a category other than its fixed one.",
    "pack.missing-category": "A pack's own action has no category.",
    "pack.duplicate-id": "Two rules, duties, patterns or closure conditions share an id.",
    "pack.duplicate-outcome": "One outcome is counted as two kinds of failed contact.",
    "pack.seen-outcome": "An outcome that means the child was seen is counted as failed.",
    "pack.pattern-kind": "A pattern needs exactly one of `count` or `sequence`.",
    "pack.condition": "A condition is not a mapping of facts, `all`, `any`, `not` or `count`.",
    "pack.condition-type": "A condition's value has the wrong type for its fact or operator.",
    "pack.operator-type": "An operator that does not apply to the fact's kind.",
    "pack.fact-context": "A fact used where it has no value (such as an event field at `as_of`).",
    "pack.window": "A `within` window is not one of `{days: N}`, `{months: N}`, `{years: N}`.",
    "pack.uncovered-section": "A source section that nothing encodes and that has no "
    "not-actionable reason (a warning).",
    # static analysis (check and load)
    "analysis.unsatisfiable": "A rule, duty or pattern whose condition no case can meet.",
    "analysis.subsumed": "A rule that only ever fires together with one requiring the same "
    "actions (a warning).",
    "analysis.conflict": "Two rules that fire together give one action different deadlines "
    "or owners (a warning).",
    "analysis.shadowed-risk": "A risk rule an earlier rule always pre-empts (a warning).",
    "analysis.unused-action": "An action no rule or duty requires (a warning).",
    "analysis.unused-contacts": "A contact group no action names (a warning).",
    "analysis.unused-flag": "A declared flag no condition reads (a warning).",
    "analysis.no-citation": "An action with no citation of the guidance (a warning).",
    "analysis.own-means-shared": "A pack's own action that means the same as a shared one "
    "(a warning).",
    "analysis.budget": "The analysis stopped at its budget; later rules were not compared "
    "(a warning).",
    # scenario files
    "scenario.unreadable": "The scenario file cannot be read or is not UTF-8.",
    "scenario.yaml": "The scenario file is not plain YAML.",
    "scenario.duplicate-key": "A key appears twice in one mapping of a scenario file.",
    "scenario.too-large": "The scenario file is over a size or nesting limit.",
    "scenario.schema": "A scenario value has the wrong type or is not one of the choices.",
    "scenario.unknown-field": "A field the scenario format does not have (often a typo).",
    "scenario.missing-field": "A required scenario field is missing.",
    "scenario.asserts-nothing": "A scenario whose `expect` checks nothing would always pass.",
    # mapping files (FHIR and table exports: docs/interop.md)
    "mapping.not-found": "The mapping file does not exist or cannot be read, or no bundled "
    "mapping has that id.",
    "mapping.yaml": "The mapping file is not plain YAML (a syntax error, a tag or a merge key).",
    "mapping.duplicate-key": "A key appears twice in one mapping of a mapping file.",
    "mapping.too-large": "The mapping file is over a size, nesting or alias limit.",
    "mapping.kind": "The file does not start with `mapping: fhir` or `mapping: table`.",
    "mapping.schema": "A mapping value has the wrong type or is not one of the choices.",
    "mapping.unknown-field": "A field the mapping format does not have (often a typo).",
    "mapping.missing-field": "A required field is missing (every FHIR entry needs a `source`).",
    "mapping.value": "A code maps to an event type, field or value the contract does not have, "
    "or is listed twice.",
}
