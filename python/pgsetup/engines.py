"""create_engine / create_async_engine calls and how each gets its URL."""

from __future__ import annotations

import ast

from .imports import first_party_names, place_import
from .layout import removal_range
from .settings import SQLITE_URL
from .source import Module, const_str, terminal

ENGINE_FUNCS = {"create_async_engine", "create_engine"}


def module_constants(m: Module) -> dict:
    out = {}
    for node in m.tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out[node.target.id] = node
    return out


def import_insert_line(m: Module) -> int:
    """The line after which a new top-level import goes: after the leading import block."""
    line = 0
    for i, node in enumerate(m.tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            line = node.end_lineno
        elif i == 0 and isinstance(node, ast.Expr) and const_str(node.value) is not None:
            line = node.end_lineno
        else:
            break
    return line


def find_engines(modules: list[Module], settings: dict | None) -> list[dict]:
    out = []
    inst = settings and settings.get("instance")
    first_party = first_party_names(modules)
    for m in modules:
        consts = None
        for node in ast.walk(m.tree):
            if not (isinstance(node, ast.Call) and terminal(node.func) in ENGINE_FUNCS):
                continue
            consts = consts if consts is not None else module_constants(m)
            url_arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "url"), None)
            url = None
            if url_arg is not None:
                url = {"text": m.text(url_arg), "span": m.span(url_arg), "kind": "expression", "sqlite": False}
                lit = const_str(url_arg)
                if lit is not None:
                    url |= {"kind": "literal", "sqlite": bool(SQLITE_URL.match(lit))}
                elif isinstance(url_arg, ast.Name) and url_arg.id in consts:
                    decl = consts[url_arg.id]
                    value = const_str(decl.value)
                    uses = sum(1 for n in ast.walk(m.tree) if isinstance(n, ast.Name) and n.id == url_arg.id and isinstance(n.ctx, ast.Load))
                    remove_from, remove_to = removal_range(m, decl.lineno, decl.end_lineno)
                    url |= {
                        "kind": "constant",
                        "sqlite": bool(value and SQLITE_URL.match(value)),
                        "constant": {
                            "name": url_arg.id,
                            "line": decl.lineno,
                            "endLine": decl.end_lineno,
                            "alone": m.is_alone(decl),
                            "uses": uses,
                            "value": value,
                            # With the comment that described it and a blank line that would double up.
                            "removeFrom": remove_from,
                            "removeTo": remove_to,
                        },
                    }
            keywords = []
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                entry = {"name": kw.arg, "text": m.text(kw.value), "span": m.span(kw), "valueSpan": m.span(kw.value)}
                if isinstance(kw.value, ast.Dict):
                    entry["dict"] = [
                        {"key": const_str(k), "span": m.span(k) | {"endLine": v.end_lineno, "endCol": m.col(v.end_lineno, v.end_col_offset)}}
                        for k, v in zip(kw.value.keys, kw.value.values)
                        if k is not None
                    ]
                keywords.append(entry)
            # Every argument's span in order, so a removal can take the right comma with it.
            all_args = sorted([*node.args, *[k for k in node.keywords]], key=lambda a: (a.lineno, a.col_offset))
            settings_local = None
            if inst:
                if inst["module"] == m.name:
                    settings_local = inst["name"]
                else:
                    settings_local = next(
                        (n for n, (src, attr) in m.imports.items() if src == inst["module"] and attr == inst["name"]), None
                    )
                    if settings_local is None:
                        mod_alias = next((n for n, (src, attr) in m.imports.items() if src == inst["module"] and attr is None), None)
                        if mod_alias:
                            settings_local = f'{mod_alias}.{inst["name"]}'
            out.append({
                "module": m.name,
                "file": m.rel,
                "func": terminal(node.func),
                "span": m.span(node),
                "url": url,
                "keywords": keywords,
                "argSpans": [m.span(a) for a in all_args],
                "settingsLocal": settings_local,
                "importInsertLine": import_insert_line(m),
                "callee": m.text(node.func),
                "args": [{"text": m.text(a), "span": m.span(a)} for a in all_args],
                # `from <settings module> import <instance>` in its import section, sorted.
                "settingsImport": place_import(m, f'from {inst["module"]} import {inst["name"]}', first_party)
                if inst and settings_local is None and inst["module"] != m.name else None,
            })
    return out
