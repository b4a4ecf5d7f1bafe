"""Print the requirements of the named extras from pyproject.toml, one per line.

CI installs an extra's requirements this way instead of `pip install ".[extra]"`, which
would build and reinstall the project each time (compiling the engine again, a minute).
"""

import sys
import tomllib
from pathlib import Path

extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]
for name in sys.argv[1:]:
    for requirement in extras[name]:
        print(requirement)
