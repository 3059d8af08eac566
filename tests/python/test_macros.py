"""Every macro of macros/ and every generic test of tests/generic/ has an
entry in macros/_macros.yml, with its arguments, and every entry names one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
MACROS_YML = PROJECT_DIR / "macros" / "_macros.yml"

# `{% macro name(args) %}` or `{% test name(args) %}`, over several lines.
_DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\((.*?)\)\s*-?%\}", re.DOTALL)


def _argument_names(signature: str) -> list[str]:
    """The parameter names of a Jinja signature (defaults are Python-like)."""
    tree = ast.parse(f"def f({signature}): pass")
    return [arg.arg for arg in tree.body[0].args.args]


def defined_macros() -> dict[str, list[str]]:
    """Name -> argument names of every macro in the project; a generic test
    `name` is the macro `test_name`, as dbt names it."""
    files = [
        *sorted((PROJECT_DIR / "macros").rglob("*.sql")),
        *sorted((PROJECT_DIR / "tests" / "generic").glob("*.sql")),
    ]
    found = {}
    for path in files:
        for kind, name, signature in _DEFINITION.findall(path.read_text()):
            found[("test_" if kind == "test" else "") + name] = _argument_names(
                signature
            )
    return found


def documented_macros() -> dict[str, list[str]]:
    """Name -> documented argument names of every entry of _macros.yml."""
    entries = yaml.safe_load(MACROS_YML.read_text())["macros"]
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), "an entry appears twice"
    return {
        entry["name"]: [arg["name"] for arg in entry.get("arguments") or []]
        for entry in entries
    }


def test_definitions_are_found():
    macros = defined_macros()
    assert "cv_safe_divide" in macros and "test_cv_unique_integers" in macros
    assert macros["cv_clv_call"] == ["function", "leading", "params", "customers"]


def test_every_macro_is_documented():
    missing = sorted(set(defined_macros()) - set(documented_macros()))
    assert not missing, f"macros without an entry in {MACROS_YML.name}: {missing}"


def test_every_entry_names_a_macro():
    unknown = sorted(set(documented_macros()) - set(defined_macros()))
    assert not unknown, f"entries of {MACROS_YML.name} for no macro: {unknown}"


def test_documented_arguments_match_the_definitions():
    defined = defined_macros()
    wrong = {
        name: {"documented": arguments, "defined": defined[name]}
        for name, arguments in documented_macros().items()
        if name in defined and arguments != defined[name]
    }
    assert not wrong, f"arguments differ from the macro definitions: {wrong}"


def test_every_entry_has_a_description():
    entries = yaml.safe_load(MACROS_YML.read_text())["macros"]
    bare = [entry["name"] for entry in entries if not entry.get("description")]
    bare += [
        f"{entry['name']}.{arg['name']}"
        for entry in entries
        for arg in entry.get("arguments") or []
        if not (arg.get("description") and arg.get("type"))
    ]
    assert not bare, f"entries without a description or type: {bare}"
