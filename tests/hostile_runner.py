"""Run every hostile corpus entry in one process (under a 1 GiB limit set by the caller).

Prints one JSON object a line: the entry's index, exit status, output and seconds taken.
One process for the corpus keeps the default test run fast; each entry still runs the real
command line, in process.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "second_no_access.json")
AS_OF = "2026-11-25T09:00:00Z"
CORPUS = ROOT / "tests" / "hostile"
COMMANDS = {
    "check": lambda f: ["check", f],
    "assess-with-pack": lambda f: ["assess", "--pack", f, "--as-of", AS_OF, EXAMPLE],
    "assess": lambda f: ["assess", "--pack", "north_lincs", "--as-of", AS_OF, f],
    "assess-jsonl": lambda f: ["assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", f],
}


def main() -> None:
    manifest: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text("utf-8"))
    for index, entry in enumerate(manifest):
        command = COMMANDS[entry["run"]](str(CORPUS / entry["file"]))
        start = time.perf_counter()
        result = CliRunner().invoke(app, command)
        seconds = time.perf_counter() - start
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        output = result.stdout + result.stderr + (repr(result.exception) if crashed else "")
        sys.stdout.write(json.dumps({"index": index, "exit": result.exit_code, "output": output,
                                     "seconds": seconds, "crashed": crashed}) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
