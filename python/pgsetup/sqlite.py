"""SQLite URLs in the code and the database files they name."""

from __future__ import annotations

import ast
import os
import re
import sqlite3

from .settings import SQLITE_URL
from .source import Module, const_str


def sqlite_file(url: str, root: str) -> str | None:
    path = re.sub(r"^sqlite(\+\w+)?://", "", url, flags=re.I).split("?")[0]
    if not path.startswith("/") or path in ("/", "/:memory:"):
        return None
    path = path[1:]
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))


def count_rows(path: str | None) -> int | None:
    """Rows in the file's own tables (None: no such file, or not a SQLite database). Read-only."""
    if not path or not os.path.isfile(path):
        return None
    try:
        # mode=ro: counting must never create or change the file (not even a journal).
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            return sum(con.execute(f'SELECT count(*) FROM "{t.replace(chr(34), chr(34) * 2)}"').fetchone()[0] for t in tables)
        finally:
            con.close()
    except sqlite3.Error:
        return None


def find_sqlite(modules: list[Module], root: str) -> list[dict]:
    out = []
    for m in modules:
        for node in ast.walk(m.tree):
            value = const_str(node)
            if value and SQLITE_URL.match(value):
                path = sqlite_file(value, root)
                out.append({"module": m.name, "file": m.rel, "line": node.lineno, "url": value, "path": path, "rows": count_rows(path)})
    return out


# ---------------------------------------------------------------- dependency manager
