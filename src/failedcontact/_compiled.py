"""The modules the wheel build compiles with mypyc: declared here, once.

`hatch_build.py` reads this tuple without importing the package, and
`engine.build.engine_build` asks the installed copies which build they are. They are the
modules the engine runs for every event of every case; the rest gain little.
"""

COMPILED_MODULES = (
    "failedcontact.engine.evaluate",
    "failedcontact.engine.timeline",
    "failedcontact.engine.actions",
    "failedcontact.engine.findings",
    "failedcontact.engine.trace",
    "failedcontact.pack.compiler",
    "failedcontact.pack.conditions",
    "failedcontact.pack.facts",
    "failedcontact.model.calendar",
)
