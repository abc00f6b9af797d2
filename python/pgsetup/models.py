"""The declarative base and the mapped classes (SQLAlchemy and SQLModel)."""

from __future__ import annotations

import ast

from .source import Module, const_str, terminal

BASE_CLASSES = {"DeclarativeBase", "DeclarativeBaseNoMeta"}


def find_base(modules: list[Module], overrides: dict) -> dict | None:
    wanted = overrides.get("base")  # "module:Name"
    found = []
    for m in modules:
        for node in m.tree.body:
            if isinstance(node, ast.ClassDef) and any(terminal(b) in BASE_CLASSES for b in node.bases):
                found.append({"module": m.name, "file": m.rel, "name": node.name, "kind": "class", "line": node.lineno})
            elif isinstance(node, ast.ClassDef) and any(terminal(d) == "as_declarative" for d in node.decorator_list):
                found.append({"module": m.name, "file": m.rel, "name": node.name, "kind": "class", "line": node.lineno})
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and terminal(node.value.func) in ("declarative_base", "generate_base"):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        found.append({"module": m.name, "file": m.rel, "name": t.id, "kind": "declarative_base()", "line": node.lineno})
    if wanted:
        mod, _, name = wanted.partition(":")
        match = [b for b in found if b["module"] == mod and b["name"] == name]
        return match[0] if match else {"module": mod, "file": None, "name": name, "kind": "given", "line": None}
    if not found:
        # SQLModel projects: the base is SQLModel itself.
        for m in modules:
            if any(src == "sqlmodel" and attr == "SQLModel" for src, attr in m.imports.values()):
                return {"module": "sqlmodel", "file": None, "name": "SQLModel", "kind": "sqlmodel", "line": None}
        return None
    # Prefer the base most models derive from.
    counts = {id(b): len(mapped_classes(modules, b)) for b in found}
    found.sort(key=lambda b: -counts[id(b)])
    return found[0] | {"others": [f'{b["module"]}:{b["name"]}' for b in found[1:]]}


def mapped_classes(modules: list[Module], base: dict) -> list[dict]:
    derived = {base["name"]}
    out, seen = [], set()
    changed = True
    while changed:
        changed = False
        for m in modules:
            for node in ast.walk(m.tree):
                if not isinstance(node, ast.ClassDef) or (m.name, node.name) in seen:
                    continue
                if node.name == base["name"] and m.name == base["module"]:
                    continue
                if any(terminal(b) in derived for b in node.bases) or (
                    base["kind"] == "sqlmodel" and any(kw.arg == "table" for kw in node.keywords)
                ):
                    seen.add((m.name, node.name))
                    derived.add(node.name)
                    changed = True
                    table = None
                    abstract = False
                    for sub in node.body:
                        if isinstance(sub, ast.Assign):
                            for t in sub.targets:
                                if isinstance(t, ast.Name) and t.id == "__tablename__":
                                    table = const_str(sub.value) or "?"
                                if isinstance(t, ast.Name) and t.id == "__abstract__":
                                    abstract = True
                    if base["kind"] == "sqlmodel" and not any(kw.arg == "table" for kw in node.keywords):
                        abstract = True
                    if not abstract:
                        out.append({"module": m.name, "file": m.rel, "name": node.name, "table": table})
    return out


def find_models(modules: list[Module], base: dict | None, overrides: dict) -> dict:
    classes = mapped_classes(modules, base) if base else []
    mods = list(dict.fromkeys(c["module"] for c in classes))
    if overrides.get("models"):
        mods = list(overrides["models"])
    return {"modules": mods, "classes": classes}


# ---------------------------------------------------------------- engines, create_all, sqlite
