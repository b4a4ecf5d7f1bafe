"""Write docs/reference.md, scenarios.md, errors.md and cli.md from the models and the CLI.

    python docs/gen_reference.py

tests/test_docs.py fails when the committed pages differ from what this writes.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path

import typer
from pydantic import BaseModel

from failedcontact.cli import app
from failedcontact.codes import CODES
from failedcontact.pack import document
from failedcontact.pack.conditions import COUNT_SCOPES, OPERATORS
from failedcontact.pack.facts import FACTS
from failedcontact.pack.references import TRIGGERS
from failedcontact.testing import scenario_model

DOCS = Path(__file__).resolve().parent
MODELS: list[type[BaseModel]] = [
    document.PackDocument,
    document.Source,
    document.Section,
    document.Scope,
    document.CalendarSpec,
    document.WorkingHours,
    document.Contact,
    document.FailedContactKind,
    document.RiskSpec,
    document.RiskRule,
    document.RiskDefault,
    document.ActionSpec,
    document.Rule,
    document.Requirement,
    document.Duty,
    document.Window,
    document.PatternSpec,
    document.CountPattern,
    document.SequencePattern,
    document.ClosureSpec,
    document.ClosureCondition,
]


def _type(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (tuple, list):
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"mapping of {_type(args[0])} to {_type(args[1])}"
    if annotation is type(None):
        return "null"
    if annotation is typing.Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def reference() -> str:
    lines = [
        "# Pack reference",
        "",
        "Generated from the models by `docs/gen_reference.py`; do not edit by hand.",
        "",
        "## Facts conditions may test",
        "",
        "Contexts: `rule` (a rule's `when`), `pattern` (pattern selectors and `count.of`),",
        "`risk` (risk rules, at `as_of`), `closure` (closure conditions, at `as_of`).",
        "",
        "| fact | type | contexts | meaning |",
        "|---|---|---|---|",
    ]
    for fact in FACTS.values():
        contexts = ", ".join(sorted(c.value for c in fact.contexts))
        values = f" Values: {', '.join(f'`{v}`' for v in fact.domain)}." if fact.domain else ""
        lines.append(f"| `{fact.name}` | {fact.kind.value} | {contexts} | "
                     f"{fact.description}.{values} |")  # fmt: skip
    lines += ["", "## Operators", "", "| operator | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {meaning} |" for name, meaning in OPERATORS.items()]
    lines += [
        "",
        "Combinators: `all` and `any` (lists of conditions), `not` (one condition), and `count`",
        f"(keys `of`, a bound, `scope`: {', '.join(f'`{s}`' for s in COUNT_SCOPES)};",
        "`since`: only events after the latest one matching this condition; and a window,",
        "`within_days: N` or `within:` one of `{days: N}`, `{months: N}`, `{years: N}`). In a",
        "closure condition every count stays inside the current episode. See the",
        "[cookbook](cookbook/index.md).",
        "",
        "## Triggers",
        "",
        ", ".join(f"`{t}`" for t in TRIGGERS),
        "",
        "`failed_contact`: an event the pack counts as a failed contact, in the current run.",
        "`as_of`: tested once at `as_of` on the case's facts; the clock starts there and the",
        "action's `trigger.event` is null. Every other trigger is an event type, `action`",
        "(a recorded action) included.",
        "",
        "## Pack document fields",
        "",
    ]
    for model in MODELS:
        lines += _fields_table(model)
    return "\n".join(lines) + "\n"


SCENARIO_MODELS: list[type[BaseModel]] = [
    scenario_model.ScenarioFile,
    scenario_model.Scenario,
    scenario_model.Expectation,
    scenario_model.ActionExpectation,
    scenario_model.ContactExpectation,
    scenario_model.ClosureExpectation,
    scenario_model.CaseErrorExpectation,
    scenario_model.PackErrorExpectation,
]


def _fields_table(model: type[BaseModel]) -> list[str]:
    lines = [f"### {model.__name__}", "", (model.__doc__ or "").strip(), "",
             "| field | type | default | description |", "|---|---|---|---|"]  # fmt: skip
    for name, field in model.model_fields.items():
        default = "required" if field.is_required() else f"`{field.get_default()!r}`"
        if field.default_factory is not None:
            default = "empty"
        lines.append(f"| `{name}` | {_type(field.annotation)} | {default} | "
                     f"{field.description or ''} |")  # fmt: skip
    lines.append("")
    return lines


def scenarios() -> str:
    lines = [
        "# Scenario reference",
        "",
        "Generated from the models by `docs/gen_reference.py`; do not edit by hand.",
        "",
        "A scenario file states cases and what the guidance says the outcome must be;",
        "`failedcontact test` runs them (see [the guide](policy-leads.md)). Every key is",
        "checked: an unknown key, a value of the wrong shape or a scenario that expects",
        "nothing is an error with its file, line and column. Editors that speak the YAML",
        "language server check as you type when the file's first line is",
        "",
        "```yaml",
        "# yaml-language-server: $schema=../../../schemas/scenario.schema.json",
        "```",
        "",
        "A pack id in `pack` means `policies/<id>.yaml` in the working tree (the `policies`",
        "folder at or above the scenario file) when there is one, else the bundled pack; a",
        "path ending `.yaml` is relative to the scenario file.",
        "",
        "Invariants `holds` may name: "
        + ", ".join(f"`{i.value}`" for i in scenario_model.Invariant)
        + " ([verify](verify.md) explains each).",
        "",
        "## Fields",
        "",
    ]
    for model in SCENARIO_MODELS:
        lines += _fields_table(model)
    return "\n".join(lines)


def errors() -> str:
    lines = [
        "# Diagnostic codes",
        "",
        "Generated from `failedcontact.codes` by `docs/gen_reference.py`; do not edit by hand.",
        "",
        "Every diagnostic `check`, `test` and `load_pack` report has one of these codes, a",
        "message naming what was written (in backticks), its file, line and column, and",
        "often a help line. `check --format json` gives the same fields as data.",
        "",
        "| code | what it means |",
        "|---|---|",
    ]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in CODES.items()]
    return "\n".join(lines) + "\n"


def cli() -> str:
    command: typing.Any = typer.main.get_command(app)
    lines = ["# Command-line reference", "",
             "Generated from the CLI by `docs/gen_reference.py`; do not edit by hand.", ""]  # fmt: skip
    for name in sorted(command.commands):
        sub = command.commands[name]
        arguments = [p for p in sub.params if p.param_type_name == "argument"]
        options = [p for p in sub.params if p.param_type_name == "option"]
        usage = " ".join(p.name.upper() + ("..." if p.nargs == -1 else "") for p in arguments)
        lines += [f"## failedcontact {name}", "", (sub.help or "").strip(), "", "```text",
                  f"failedcontact {name} [OPTIONS] {usage}".rstrip(), "```", ""]  # fmt: skip
        rows = [(p.name.upper(), getattr(p, "help", None) or "", p.required) for p in arguments]
        rows += [(", ".join(p.opts), p.help or "", p.required) for p in options]
        if rows:
            lines += ["| argument or option | meaning |", "|---|---|"]
            lines += [f"| `{flag}` | {text}{' (required)' if req else ''} |"
                      for flag, text, req in rows]  # fmt: skip
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    (DOCS / "reference.md").write_text(reference(), encoding="utf-8")
    (DOCS / "cli.md").write_text(cli(), encoding="utf-8")
    (DOCS / "scenarios.md").write_text(scenarios(), encoding="utf-8")
    (DOCS / "errors.md").write_text(errors(), encoding="utf-8")


if __name__ == "__main__":
    main()
