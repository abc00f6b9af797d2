"""Pydantic settings classes, their fields, the URL field and the env key that feeds it."""

from __future__ import annotations

import ast
import re

from .source import Module, const_str, terminal

URL_FIELD = re.compile(r"^(sqlalchemy_)?(database|db|sql|postgres|pg|async_database|sqlalchemy_database)?_?(url|uri|dsn)$", re.I)
SQLITE_URL = re.compile(r"^sqlite(\+\w+)?://", re.I)


def settings_classes(modules: list[Module]) -> list[tuple[Module, ast.ClassDef]]:
    found: list[tuple[Module, ast.ClassDef]] = []
    names = {"BaseSettings"}
    changed = True
    while changed:  # subclasses of settings classes are settings classes too
        changed = False
        for m in modules:
            for node in m.tree.body:
                if isinstance(node, ast.ClassDef) and node.name not in names and any(terminal(b) in names for b in node.bases):
                    names.add(node.name)
                    found.append((m, node))
                    changed = True
    return found


def settings_fields(m: Module, cls: ast.ClassDef) -> tuple[list[dict], str, bool]:
    fields, prefix, case_sensitive = [], "", False
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name == "model_config" or "ClassVar" in m.text(node.annotation):
                if name == "model_config" and isinstance(node.value, ast.Call):
                    prefix, case_sensitive = config_kwargs(node.value, prefix, case_sensitive)
                continue
            alias = None
            default = node.value
            if isinstance(node.value, ast.Call) and terminal(node.value.func) == "Field":
                default = node.value.args[0] if node.value.args else None
                for kw in node.value.keywords:
                    if kw.arg in ("validation_alias", "alias") and alias is None:
                        alias = const_str(kw.value)
                        if alias is None and isinstance(kw.value, ast.Call) and kw.value.args:
                            alias = const_str(kw.value.args[0])  # AliasChoices("A", "B"): the first
                    if kw.arg == "default":
                        default = kw.value
            fields.append({
                "name": name,
                "annotation": m.text(node.annotation),
                "default": m.text(default) if default is not None else None,
                "defaultIsSqlite": bool(SQLITE_URL.match(const_str(default) or "")),
                "alias": alias,
                "span": m.span(node),
                # From the end of the annotation to the end of a plain default: removing it
                # makes the field required, so a missing env file fails loudly.
                "defaultSpan": {
                    "line": node.annotation.end_lineno,
                    "col": m.col(node.annotation.end_lineno, node.annotation.end_col_offset),
                    "endLine": node.end_lineno,
                    "endCol": m.col(node.end_lineno, node.end_col_offset),
                } if isinstance(node.value, ast.Constant) else None,
            })
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "model_config" for t in node.targets):
            if isinstance(node.value, ast.Call):
                prefix, case_sensitive = config_kwargs(node.value, prefix, case_sensitive)
            elif isinstance(node.value, ast.Dict):
                for k, v in zip(node.value.keys, node.value.values):
                    if const_str(k) == "env_prefix":
                        prefix = const_str(v) or prefix
        elif isinstance(node, ast.ClassDef) and node.name == "Config":  # pydantic v1 style
            for sub in node.body:
                if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "env_prefix" for t in sub.targets):
                    prefix = const_str(sub.value) or prefix
                if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "case_sensitive" for t in sub.targets) and isinstance(sub.value, ast.Constant):
                    case_sensitive = bool(sub.value.value)
    return fields, prefix, case_sensitive


def config_kwargs(call: ast.Call, prefix: str, case_sensitive: bool) -> tuple[str, bool]:
    for kw in call.keywords:
        if kw.arg == "env_prefix":
            prefix = const_str(kw.value) or prefix
        if kw.arg == "case_sensitive" and isinstance(kw.value, ast.Constant):
            case_sensitive = bool(kw.value.value)
    return prefix, case_sensitive


def settings_instances(modules: list[Module], cls_name: str, cls_module: str) -> list[dict]:
    """Module-level `x = Cls()` and functions returning `Cls()` (the lru_cache'd get_settings)."""
    out = []
    for m in modules:
        local = {n for n, (src, attr) in m.imports.items() if attr == cls_name and src == cls_module}
        if m.name == cls_module:
            local.add(cls_name)
        if not local:
            continue
        for node in m.tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) and terminal(node.value.func) in local:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        out.append({"module": m.name, "name": t.id, "call": False})
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.args.args:
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Call) and terminal(sub.value.func) in local:
                        out.append({"module": m.name, "name": node.name, "call": True})
                        break
    out.sort(key=lambda i: (i["module"] != cls_module, i["call"]))
    return out


def env_file_config(m: Module, cls: ast.ClassDef, head_line: int, indent: int) -> dict:
    """Whether the class reads an env file, and if not, the text edits that make it read `.env`.

    Without env_file a settings class only sees real environment variables, so the URL pg-setup
    writes to .env never reaches the app ("Field required" once the SQLite default is gone).
    """
    for node in cls.body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id == "model_config" and node.value is not None:
            v = node.value
            if isinstance(v, ast.Call):
                keys = {kw.arg: kw.value for kw in v.keywords if kw.arg}
                return config_result(m, "model_config", keys.get("env_file"), "extra" in keys, v, [*v.args, *v.keywords], "{k}={v}")
            if isinstance(v, ast.Dict):
                keys = {const_str(k): val for k, val in zip(v.keys, v.values) if k is not None}
                items = [val for val in v.values]
                return config_result(m, "model_config", keys.get("env_file"), "extra" in keys, v, items, '"{k}": {v}')
            return {"reads": None, "style": "model_config", "value": None, "edits": []}
        if isinstance(node, ast.ClassDef) and node.name == "Config":
            keys = {t.id: sub.value for sub in node.body if isinstance(sub, ast.Assign) for t in sub.targets if isinstance(t, ast.Name)}
            if "env_file" in keys:
                return {"reads": True, "style": "Config", "value": const_str(keys["env_file"]), "edits": []}
            last = node.body[-1]
            pad = " " * m.col(last.lineno, last.col_offset)
            text = f'{pad}env_file = ".env"\n' + ("" if "extra" in keys else f'{pad}extra = "ignore"\n')
            return {"reads": False, "style": "Config", "value": None, "edits": [{"line": last.end_lineno + 1, "col": 0, "text": text}]}
    # No configuration at all: add the tutorial's model_config (and import SettingsConfigDict),
    # after the docstring's blank line when there is one.
    pad = " " * indent
    if head_line < len(m.lines) and m.lines[head_line].strip() == "":
        head_line += 1
    imp = next((n for n in m.tree.body if isinstance(n, ast.ImportFrom) and n.module == "pydantic_settings"), None)
    if imp is None:
        text = f'{pad}class Config:\n{pad}    env_file = ".env"\n{pad}    extra = "ignore"\n\n'
        return {"reads": False, "style": "none", "value": None, "edits": [{"line": head_line + 1, "col": 0, "text": text}]}
    edits = [{"line": head_line + 1, "col": 0, "text": f'{pad}model_config = SettingsConfigDict(env_file=".env", extra="ignore")\n\n'}]
    if not any((a.asname or a.name) == "SettingsConfigDict" for a in imp.names):
        last = imp.names[-1]
        edits.append({"line": last.end_lineno, "col": m.col(last.end_lineno, last.end_col_offset), "text": ", SettingsConfigDict"})
    return {"reads": False, "style": "none", "value": None, "edits": edits}


def config_result(m: Module, style: str, env_file, has_extra: bool, node: ast.expr, items: list, fmt: str) -> dict:
    if env_file is not None:
        return {"reads": True, "style": style, "value": const_str(env_file), "edits": []}
    new = [fmt.format(k="env_file", v='".env"')] + ([] if has_extra else [fmt.format(k="extra", v='"ignore"')])
    close_line, close_col = node.end_lineno, m.col(node.end_lineno, node.end_col_offset) - 1
    if not items:
        return {"reads": False, "style": style, "value": None, "edits": [{"line": close_line, "col": close_col, "text": ", ".join(new)}]}
    last = items[-1]
    end_col = m.col(last.end_lineno, last.end_col_offset)
    after = m.lines[last.end_lineno - 1][end_col:]
    if last.end_lineno == close_line:
        # One line (or the closing bracket right after the last item): append after it.
        return {"reads": False, "style": style, "value": None, "edits": [{"line": last.end_lineno, "col": end_col, "text": "".join(f", {n}" for n in new)}]}
    # One item a line, as the project wrote it: one new line each, trailing commas kept.
    pad = " " * m.col(last.lineno, last.col_offset) if m.is_alone_expr(last) else " " * 4
    edits = []
    if not after.lstrip().startswith(","):
        edits.append({"line": last.end_lineno, "col": end_col, "text": ","})
    edits.append({"line": last.end_lineno + 1, "col": 0, "text": "".join(f"{pad}{n},\n" for n in new)})
    return {"reads": False, "style": style, "value": None, "edits": edits}


def find_settings(modules: list[Module], overrides: dict) -> dict | None:
    wanted = overrides.get("settings")  # "module:obj" or "module:func()"
    want_field = overrides.get("urlField")
    candidates = []
    for m, cls in settings_classes(modules):
        fields, prefix, case_sensitive = settings_fields(m, cls)
        instances = settings_instances(modules, cls.name, m.name)
        if wanted:
            mod, _, obj = wanted.partition(":")
            obj_name = obj.rstrip("()")
            match = [i for i in instances if i["module"] == mod and i["name"] == obj_name]
            if not match:
                continue
            instances = match
        url = None
        for f in fields:
            if (want_field and f["name"] == want_field) or (not want_field and (URL_FIELD.match(f["name"]) or "Dsn" in f["annotation"])):
                url = f
                break
        if url:
            url["envKey"] = url["alias"] or (prefix + url["name"] if case_sensitive else (prefix + url["name"]).upper())
        body_last = cls.body[-1]
        last_field = max((f["span"]["endLine"] for f in fields), default=None)
        first = cls.body[0]
        has_doc = isinstance(first, ast.Expr) and const_str(first.value) is not None
        insert_after = last_field or (first.end_lineno if has_doc else cls.lineno)
        only_pass = len(cls.body) == 1 and isinstance(first, ast.Pass)
        candidates.append({
            "module": m.name,
            "file": m.rel,
            "className": cls.name,
            "classSpan": m.span(cls),
            "instance": instances[0] if instances else None,
            "envPrefix": prefix,
            "caseSensitive": case_sensitive,
            "fields": [{k: v for k, v in f.items() if k != "span"} | {"line": f["span"]["line"], "endLine": f["span"]["endLine"]} for f in fields],
            "urlField": url,
            # Where a new field line goes, and with which indentation.
            "insertAfterLine": insert_after,
            "replacePassLine": first.lineno if only_pass else None,
            "indent": m.col(first.lineno, first.col_offset) if first else 4,
            "lastLine": body_last.end_lineno,
            "envFile": env_file_config(m, cls, first.end_lineno if has_doc else first.lineno - 1, m.col(first.lineno, first.col_offset)),
        })
    if not candidates:
        return None
    candidates.sort(key=lambda c: (not c["urlField"], not c["instance"]))
    return candidates[0] | {"others": [f'{c["module"]}:{c["className"]}' for c in candidates[1:]]}


# ---------------------------------------------------------------- declarative base and models


def describe_target(modules: list[Module], wanted: str | None) -> dict | None:
    """What `--settings module:obj` names, in words, for when it is not a settings instance."""
    if not wanted:
        return None
    mod, _, obj = wanted.partition(":")
    name = obj.rstrip("()")
    m = next((x for x in modules if x.name == mod), None)
    if m is None:
        return {"kind": "no-module", "text": f"no module {mod} in the project"}
    settings_names = {cls.name for _, cls in settings_classes(modules)}
    for node in m.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            returns = [terminal(r.value.func) for r in ast.walk(node) if isinstance(r, ast.Return) and isinstance(r.value, ast.Call)]
            if any(r in settings_names for r in returns):
                return {"kind": "settings", "text": f"a function returning a settings instance in {m.rel}"}
            return {"kind": "function", "text": f"a function def {name}() in {m.rel}:{node.lineno} that returns no BaseSettings instance"}
        if isinstance(node, ast.ClassDef) and node.name == name:
            kind = "the settings class itself (pass its instance)" if name in settings_names else "a class that is not a BaseSettings subclass"
            return {"kind": "class", "text": f"{kind}: class {name} in {m.rel}:{node.lineno}"}
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            v = node.value
            if isinstance(v, ast.Call) and terminal(v.func) in settings_names:
                return {"kind": "settings", "text": f"a settings instance in {m.rel}"}
            value = const_str(v)
            if value is not None and re.match(r"^[a-z][a-z0-9+]*://", value, re.I):
                return {"kind": "url-constant", "text": f"a URL constant {name} = {value!r} in {m.rel}:{node.lineno}"}
            what = f"{terminal(v.func)}(...)" if isinstance(v, ast.Call) else type(v).__name__.lower()
            return {"kind": "other", "text": f"{name} = {what} in {m.rel}:{node.lineno}, not a settings instance"}
    return {"kind": "no-name", "text": f"no top-level {name} in {m.rel}"}
