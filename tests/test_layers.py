"""The apps under tracker/ import downward only: the domain core knows nothing of the apps above it.

Each app (a folder under tracker/) has a layer; an import of an app in the same or a higher layer
fails this test, wherever it stands in the module (inside a function too). Read with `ast`, no import runs.
"""

import ast
from pathlib import Path

TRACKER = Path(__file__).resolve().parent.parent / "tracker"

# Lowest first. Apps in one layer may not import each other.
LAYERS = [
    {"targets"},  # the domain core: units, plans, targets, entries, periods, policies, the status engine
    {"audit"},  # the history of every change
    {"accounts"},  # people, memberships and roles; who sees what (scoping)
    {"services"},  # writing figures and moving them through review
    {"adminkit"},  # admin pieces shared by every admin
    {"registers"},  # the firms and projects registers, and the targets that take their figures from them
    {"entry", "setup", "reports", "reminders", "imports"},  # the apps by role
    {"releases"},  # the indicator grid and the release table import (reuses the figure import's reading)
    {"ops"},  # the operator's tools, which look at the others (health of the reminders, backup, history)
    {"api"},  # the REST API over the apps below it (report rows and completeness from reports)
]
LAYER_OF = {app: n for n, apps in enumerate(LAYERS) for app in apps}


def imported_apps(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tracker" and len(parts) > 1 and (TRACKER / parts[1]).is_dir():
                yield parts[1], node.lineno


def test_every_app_has_a_layer():
    apps = {p.name for p in TRACKER.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert apps - {"locale", "templates"} == set(LAYER_OF)


def test_no_app_imports_an_app_in_its_layer_or_above():
    wrong = []
    for path in sorted(TRACKER.rglob("*.py")):
        rel = path.relative_to(TRACKER)
        if len(rel.parts) < 2 or "migrations" in rel.parts:
            continue
        here = rel.parts[0]
        for there, line in imported_apps(path):
            if there != here and LAYER_OF[there] >= LAYER_OF[here]:
                wrong.append(f"tracker/{rel}:{line} imports {there} (layer {LAYER_OF[there]} >= {LAYER_OF[here]})")
    assert wrong == []


def test_the_project_modules_import_only_what_they_wire_together():
    """tracker/links.py names URLs only: every app may use it, so it imports no app."""
    assert list(imported_apps(TRACKER / "links.py")) == []
