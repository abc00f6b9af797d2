"""SQLite URLs in the code and the database files they name."""

from __future__ import annotations

import ast
import os
import re

from .settings import SQLITE_URL
from .source import Module, const_str


def sqlite_file(url: str, root: str) -> str | None:
    path = re.sub(r"^sqlite(\+\w+)?://", "", url, flags=re.I).split("?")[0]
    if not path.startswith("/") or path in ("/", "/:memory:"):
        return None
    path = path[1:]
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))


def find_sqlite(modules: list[Module], root: str) -> list[dict]:
    out = []
    for m in modules:
        for node in ast.walk(m.tree):
            value = const_str(node)
            if value and SQLITE_URL.match(value):
                out.append({"module": m.name, "file": m.rel, "line": node.lineno, "url": value, "path": sqlite_file(value, root)})
    return out


# ---------------------------------------------------------------- dependency manager
