#!/usr/bin/env python3
"""lint-bools.py: finds a boolean role variable used without `| bool`.

Values from `-e key=value` and from INI inventories arrive as strings, and the string
"false" is true in a `when:` or a Jinja `if`; so every variable declared `type: bool` in a
role's meta/argument_specs.yml must go through `| bool` wherever it is read: tasks,
handlers, vars, templates, molecule and the playbooks. A use followed by `:` is a
definition (a `vars:` key) and is left alone; defaults/ and meta/ only declare.

Run from anywhere: scripts/lint-bools.py [REPO_ROOT] (default: this script's repository).
Needs python3 with PyYAML (installed with Ansible). Exits 1 and prints path:line for each
bare use; scripts/lint.sh runs it.
"""
import re
import sys
from pathlib import Path

import yaml

SCANNED_SUFFIXES = {".yml", ".yaml", ".j2"}
DECLARATION_DIRS = {"defaults", "meta"}
# What may follow a boolean's name: `| bool` (or its FQCN), or `:` when it is a key.
CONVERTED = re.compile(r"\s*\|\s*(?:ansible\.builtin\.)?bool\b|\s*:")


def bool_names(root: Path) -> set[str]:
    names: set[str] = set()
    for specs_file in sorted(root.glob("roles/*/meta/argument_specs.yml")):
        specs = yaml.safe_load(specs_file.read_text(encoding="utf-8")) or {}
        for entry in (specs.get("argument_specs") or {}).values():
            for name, option in ((entry or {}).get("options") or {}).items():
                if (option or {}).get("type") == "bool":
                    names.add(name)
    return names


def scanned_files(root: Path) -> list[Path]:
    files = []
    for top in ("roles", "playbooks"):
        for path in sorted((root / top).rglob("*")):
            relative = path.relative_to(root).parts
            if not path.is_file() or path.suffix not in SCANNED_SUFFIXES:
                continue
            if top == "roles" and len(relative) > 2 and relative[2] in DECLARATION_DIRS:
                continue
            files.append(path)
    return files


def without_yaml_comments(text: str) -> str:
    # Whole-line comments only, blanked so line numbers stay right; a template's "#"
    # lines are output, so templates are read as they are.
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))


def bare_uses(path: Path, names: set[str]) -> list[tuple[int, str]]:
    if not names:
        return []
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".j2":
        text = without_yaml_comments(text)
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    found = []
    for match in pattern.finditer(text):
        if not CONVERTED.match(text, match.end()):
            found.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    names = bool_names(root)
    status = 0
    for path in scanned_files(root):
        for line, name in bare_uses(path, names):
            print(f"{path.relative_to(root)}:{line}: {name} is used without '| bool'; "
                  f"a string \"false\" from -e or an INI inventory would be true")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
