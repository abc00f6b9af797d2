"""Read a FastAPI + SQLAlchemy project with `ast` (never importing it) and print JSON.

Run by pg-setup with the project's own interpreter (python/analyze.py PROJECT_DIR
[OVERRIDES_JSON]). Standard library only, so it works before the project's dependencies are
installed. Positions are 1-based lines and 0-based columns counted in code points (not the
UTF-8 bytes ast reports), end exclusive.
"""

from __future__ import annotations

import json
import os
import sys

from .alembic_env import find_alembic
from .engines import find_engines
from .manager import detect_manager
from .models import find_base, find_models
from .settings import describe_target, find_settings
from .source import load_modules, memoized_walk, src_import_root
from .sqlite import find_sqlite
from .sqlite_quirks import find_sqlite_quirks
from .startup import asgi_apps, find_create_all
from .url_sources import find_url_sources, settings_after_takeover


def analyze(root: str, overrides: dict | None = None) -> dict:
    """The whole analysis of the project at `root`, as the JSON pg-setup consumes."""
    with memoized_walk():
        return _analyze(os.path.abspath(root), overrides or {})


def _analyze(root: str, overrides: dict) -> dict:
    modules, parse_errors = load_modules(root)
    result = {
        "projectDir": root,
        "manager": detect_manager(root),
        "parseErrors": parse_errors,
    }
    settings = find_settings(modules, overrides) or settings_after_takeover(modules, overrides)
    base = find_base(modules, overrides)
    result["settings"] = settings
    result["settingsTarget"] = describe_target(modules, overrides.get("settings"))
    result["base"] = base
    result["models"] = find_models(modules, base, overrides)
    result["engines"] = find_engines(modules, settings)
    result["createAll"] = find_create_all(modules)
    result["sqlite"] = find_sqlite(modules, root)
    result["urlSources"] = find_url_sources(modules, root, settings, overrides)
    result["sqliteQuirks"] = find_sqlite_quirks(modules)
    result["alembic"] = find_alembic(root)
    result["isSqlalchemy"] = bool(base or result["engines"])
    result["importRoot"] = src_import_root(root, modules)
    apps = asgi_apps(modules)
    result["asgi"] = apps[0] if apps else None
    return result


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 and argv[1] == "--alembic-only":
        # After pg-setup wrote the Alembic files, only this part of the analysis changed:
        # the app's code is not parsed again.
        print(json.dumps({"alembic": find_alembic(os.path.abspath(argv[0]))}))
        return
    if len(argv) > 1 and argv[1] == "--manager-only":
        # After pg-setup added the driver and Alembic (pyproject.toml, the lock, the venv,
        # requirements.txt), only the dependency manager's part of the analysis changed.
        print(json.dumps({"manager": detect_manager(os.path.abspath(argv[0]))}))
        return
    overrides = json.loads(argv[1]) if len(argv) > 1 else {}
    print(json.dumps(analyze(argv[0], overrides)))
