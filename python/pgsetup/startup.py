"""Start-up code (lifespans, startup handlers) and the create_all calls it runs."""

from __future__ import annotations

import ast

from .layout import removal_range
from .source import Module, const_str, dotted, terminal


def lifespan_functions(modules: list[Module]) -> set[str]:
    """Names of startup code: lifespans, on_event('startup') handlers, and what they call."""
    names: set[str] = set()
    for m in modules:
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "lifespan" and terminal(kw.value):
                        names.add(terminal(kw.value))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decos = [dotted(d.func if isinstance(d, ast.Call) else d) or "" for d in node.decorator_list]
                if "lifespan" in node.name or any(d.endswith("asynccontextmanager") for d in decos):
                    names.add(node.name)
                for d in node.decorator_list:
                    if isinstance(d, ast.Call) and terminal(d.func) == "on_event" and d.args and const_str(d.args[0]) == "startup":
                        names.add(node.name)
    called: set[str] = set()
    for m in modules:
        for node in ast.walk(m.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call) and terminal(sub.func):
                        called.add(terminal(sub.func))
    return names | called


def is_schema_call(node: ast.AST) -> bool:
    """create_all or drop_all on a metadata: a drop_all left without its create_all would empty
    the PostgreSQL database at every start."""
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr in ("create_all", "drop_all") and (dotted(target.value) or "").endswith("metadata")


def is_create_all(node: ast.AST) -> bool:
    """X.metadata.create_all(...) or a bare X.metadata.create_all handed to run_sync."""
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "create_all" and (dotted(target.value) or "").endswith("metadata")


def find_create_all(modules: list[Module]) -> list[dict]:
    startup = lifespan_functions(modules)
    out = []
    for m in modules:
        parents = {}
        for node in ast.walk(m.tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(m.tree):
            if not is_create_all(node) or isinstance(parents.get(node), ast.Call) and is_create_all(parents[node]):
                continue
            stmt = node
            while not isinstance(stmt, ast.stmt):
                stmt = parents[stmt]
            func = parents.get(stmt)
            while func is not None and not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                func = parents.get(func)
            # `async with engine.begin() as conn:` that only wraps create_all goes too.
            remove = stmt
            holder = parents.get(stmt)
            if isinstance(holder, (ast.With, ast.AsyncWith)) and all(
                isinstance(s, ast.Expr) and any(is_schema_call(n) for n in ast.walk(s)) for s in holder.body
            ):
                remove = holder
            container = parents.get(remove)
            siblings = next((getattr(container, f) for f in ("body", "orelse", "finalbody") if remove in getattr(container, f, [])), [])
            fname = func.name if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
            # A comment just above that announces the table creation ("# Startup: create the
            # tables") would be left describing nothing: it goes with the statement.
            # A drop_all just before it would empty PostgreSQL at every start: it goes too.
            at = siblings.index(remove) if remove in siblings else -1
            drop = siblings[at - 1] if at > 0 else None
            start_stmt = drop if isinstance(drop, ast.Expr) and is_schema_call(drop.value) and drop.value.func.attr == "drop_all" else remove
            first, last = removal_range(m, start_stmt.lineno, remove.end_lineno)
            out.append({
                "module": m.name,
                "file": m.rel,
                "function": fname,
                "unusedImports": imports_unused_after(m, remove),
                "inStartup": fname is None or fname in startup,
                "text": m.text(remove),
                "line": remove.lineno,
                "removeFrom": first,
                "endLine": remove.end_lineno,
                "removeTo": last,
                "indent": m.col(remove.lineno, remove.col_offset),
                "alone": m.is_alone(remove),
                "leavesEmptyBody": len(siblings) == (2 if start_stmt is not remove else 1),
            })
    return out


def imports_unused_after(m: Module, removed: ast.stmt) -> list[dict]:
    """Module-level `from x import a, b` names that only the removed statement used (the
    tutorial's `Base` in main.py): removing create_all would leave them unused."""
    gone = set(range(removed.lineno, removed.end_lineno + 1))
    used_there = {n.id for n in ast.walk(removed) if isinstance(n, ast.Name)}
    used_elsewhere = {n.id for n in ast.walk(m.tree) if isinstance(n, ast.Name) and n.lineno not in gone}
    out = []
    for node in m.tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        unused = [i for i, a in enumerate(node.names) if (a.asname or a.name) in used_there - used_elsewhere]
        if unused:
            out.append({
                "names": [node.names[i].asname or node.names[i].name for i in unused],
                "indexes": unused,
                "count": len(node.names),
                "line": node.lineno,
                "endLine": node.end_lineno,
                "alone": m.is_alone(node),
                "aliasSpans": [m.span(a) for a in node.names],
            })
    return out
