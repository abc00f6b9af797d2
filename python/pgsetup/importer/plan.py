"""What is imported and in which order (pure, apart from reading the SQLite file's schema):
the tables and columns both sides have, everything that is not imported (listed, never silently
dropped), parents before children, the error type, and how values appear in messages."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any


SECRET_COLUMN = re.compile(r"pass|secret|token|hash|key|salt|otp|credential", re.I)


def show_value(column: str, value: Any) -> str:
    """The value for an error message: masked when the column looks like a secret, and short."""
    if SECRET_COLUMN.search(column):
        return "****"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def order_tables(tables: list[str], fks: list[dict]) -> tuple[list[str], list[dict]]:
    """Parents before children. Where the graph has a cycle across tables, the first table left
    is placed and its foreign keys to tables not yet copied are returned to be deferred.
    Self-references need nothing: one COPY per table, and PostgreSQL checks a non-deferrable
    foreign key at the end of the statement, so parent and child rows may come in any order."""
    chosen = set(tables)
    parents = {t: set() for t in tables}
    for fk in fks:
        if fk["child"] in chosen and fk["parent"] in chosen and fk["child"] != fk["parent"]:
            parents[fk["child"]].add(fk["parent"])
    placed: list[str] = []
    deferred: list[dict] = []
    left = sorted(tables)
    while left:
        ready = [t for t in left if parents[t] <= set(placed)]
        if not ready:
            t = left[0]
            deferred += [fk for fk in fks if fk["child"] == t and fk["parent"] in set(left) and fk["parent"] != t]
            ready = [t]
        for t in ready:
            placed.append(t)
            left.remove(t)
    return placed, deferred


def match_tables(sqlite_cols: dict[str, list[str]], pg_cols: dict[str, list[dict]], models: list[str] | None) -> dict:
    """Which tables and columns are copied, and everything that is not, to be listed."""
    skip = {"alembic_version"}
    wanted = {m.split(".")[-1] for m in models} if models else None
    lower_pg = {t.lower(): t for t in pg_cols}
    tables: dict[str, dict] = {}
    notes: list[str] = []
    for s_table in sorted(sqlite_cols):
        if s_table in skip:
            continue
        target = s_table if s_table in pg_cols else lower_pg.get(s_table.lower())
        if target is None:
            notes.append(f"SQLite table {s_table} has no table in PostgreSQL: not imported")
            continue
        if wanted is not None and target not in wanted:
            notes.append(f"SQLite table {s_table} is not mapped by the models: not imported")
            continue
        by_lower = {c["column"].lower(): c for c in pg_cols[target] if not c.get("generated")}
        pairs = []
        for s_col in sqlite_cols[s_table]:
            c = by_lower.get(s_col.lower())
            if c is None:
                notes.append(f"column {s_table}.{s_col} has no column in PostgreSQL: not imported")
            else:
                pairs.append((s_col, c))
        taken = {c["column"] for _, c in pairs}
        for c in pg_cols[target]:
            if c["column"] not in taken and not c.get("generated"):
                if c["notnull"] and not c.get("hasdefault"):
                    raise ImportFailure("missing-column", f"{target}.{c['column']} is NOT NULL without a default and the SQLite table has no such column")
                notes.append(f"column {target}.{c['column']} is not in SQLite: filled by its default")
        tables[target] = {"sqlite": s_table, "pairs": pairs}
    for t in sorted(pg_cols):
        if t not in skip and t not in tables and (wanted is None or t in wanted) and not any(t == v["sqlite"] for v in tables.values()):
            if not any(n.startswith(f"SQLite table {t} ") for n in notes):
                notes.append(f"table {t} has no SQLite table: left as it is")
    return {"tables": tables, "notes": notes}


class ImportFailure(Exception):
    def __init__(self, kind: str, detail: str, **extra: Any):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.extra = extra


def read_sqlite(path: str) -> sqlite3.Connection:
    # Read-only: the import never changes the file it imports.
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise ImportFailure("not-sqlite", f"{Path(path).name} cannot be read as a SQLite database ({e})") from None
    return conn


def sqlite_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    return {n: [r[1] for r in conn.execute(f"PRAGMA table_info({quote_ident(n)})")] for n in names}
