"""The house rules a machine can check beyond import-linter's contracts (see pyproject.toml):
no package module reaches into another module's private names."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGES = ("crawler", "indexer", "web", "innosearch")


def test_no_package_module_imports_a_private_name_of_another() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGES):
                    found += [
                        f"{path.relative_to(ROOT)}: {node.module}.{alias.name}"
                        for alias in node.names
                        if alias.name.startswith("_")
                    ]
    assert not found, found
