"""settings.py is the only module of the package that reads the process environment.

An AST scan of every module: any use of `os.environ` / `os.environb` other than assigning one
variable (`os.environ[NAME] = value`, which hands a value to Dagster or a child process), any
`os.getenv` / `os.getenvb`, and any `from os import environ|getenv` is a read. Resources get their
configuration from Settings (built by definitions.py) or from `dagster.EnvVar`.
"""

import ast
from pathlib import Path

import finops_assets

PACKAGE = Path(finops_assets.__file__).parent
ALLOWED = {PACKAGE / "settings.py"}
READERS = {"environ", "environb", "getenv", "getenvb"}


def _stored_subscripts(tree: ast.AST) -> set[int]:
    """ids of `os.environ` nodes that are the target of `os.environ[...] = value`."""
    stored = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            stored.add(id(node.value))
    return stored


def environment_reads(source: str) -> list[int]:
    """Line numbers where `source` reads the process environment."""
    tree = ast.parse(source)
    stored = _stored_subscripts(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in READERS]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in READERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and id(node) not in stored
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_sees_every_way_of_reading():
    assert environment_reads("import os\nx = os.environ.get('A')") == [2]
    assert environment_reads("import os\nx = os.getenv('A')") == [2]
    assert environment_reads("import os\nx = os.environ['A']") == [2]
    assert environment_reads("import os\nenv = os.environ if e is None else e") == [2]
    assert environment_reads("import os\nos.environ.setdefault('A', 'b')") == [2]
    assert environment_reads("from os import environ\n") == [1]
    assert environment_reads("from os import getenv as g\n") == [1]
    assert environment_reads("import os\nos.environ['A'] = 'b'") == []


def test_only_settings_reads_the_environment():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ALLOWED
        for line in environment_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"modules other than settings.py read the environment: {offenders}"
