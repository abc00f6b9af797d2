"""SQLite-only workarounds that the move to PostgreSQL makes wrong. They are flagged with file
and line, never edited: only the author knows what the value meant."""

from __future__ import annotations

import ast

from .source import Module, dotted


def guarded_by_tzinfo(node: ast.AST, parents: dict) -> bool:
    """True inside `if x.tzinfo is None:` (or a conditional expression testing tzinfo): such
    code already copes with the aware datetimes PostgreSQL returns."""
    child, cur = node, parents.get(node)
    while cur is not None:
        if isinstance(cur, (ast.If, ast.IfExp)) and child is not cur.test:
            if any(isinstance(n, ast.Attribute) and n.attr == "tzinfo" for n in ast.walk(cur.test)):
                return True
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            return False
        child, cur = cur, parents.get(cur)
    return False


def find_sqlite_quirks(modules: list[Module]) -> list[dict]:
    out = []
    for m in modules:
        parents = None  # built only for a module with a candidate: most have none
        for node in ast.walk(m.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"):
                continue
            if not any(k.arg == "tzinfo" for k in node.keywords):
                continue
            receiver = node.func.value
            # datetime.now().replace(...) / datetime(...).replace(...) build a value; they do not
            # patch one read back from the database.
            if isinstance(receiver, ast.Call) or not isinstance(receiver, (ast.Name, ast.Attribute, ast.Subscript)):
                continue
            parents = parents or {c: p for p in ast.walk(m.tree) for c in ast.iter_child_nodes(p)}
            if guarded_by_tzinfo(node, parents):
                continue
            out.append({
                "kind": "tz-replace",
                "module": m.name,
                "file": m.rel,
                "line": node.lineno,
                "text": m.text(node),
                "message": (
                    f"{dotted(receiver) or m.text(receiver)}.replace(tzinfo=...) relabels a datetime: SQLite returned it naive, "
                    "but PostgreSQL's timestamptz returns it aware (in the server's time zone), so this may now shift the time; "
                    "check it, or guard it with `if value.tzinfo is None`"
                ),
            })
    return out
