"""Read a FastAPI + SQLAlchemy project with `ast` (never importing it) and print JSON.

Usage: python analyze.py PROJECT_DIR [OVERRIDES_JSON]

Run by pg-setup with the project's own interpreter. Standard library only, so it works
before the project's dependencies are installed. Positions are 1-based lines and 0-based
columns counted in code points (not the UTF-8 bytes ast reports), end exclusive.
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

SKIP_DIRS = {
    "node_modules", "__pycache__", "venv", "env", "site-packages", "build", "dist",
    "tests", "test", "migrations", "alembic", "htmlcov",
}
URL_FIELD = re.compile(r"^(sqlalchemy_)?(database|db|sql|postgres|pg|async_database|sqlalchemy_database)?_?(url|uri|dsn)$", re.I)
SQLITE_URL = re.compile(r"^sqlite(\+\w+)?://", re.I)
ENGINE_FUNCS = {"create_async_engine", "create_engine"}
BASE_CLASSES = {"DeclarativeBase", "DeclarativeBaseNoMeta"}


def main() -> None:
    root = os.path.abspath(sys.argv[1])
    overrides = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    modules, parse_errors = load_modules(root)
    result = {
        "projectDir": root,
        "manager": detect_manager(root),
        "parseErrors": parse_errors,
    }
    settings = find_settings(modules, overrides)
    base = find_base(modules, overrides)
    result["settings"] = settings
    result["base"] = base
    result["models"] = find_models(modules, base, overrides)
    result["engines"] = find_engines(modules, settings)
    result["createAll"] = find_create_all(modules)
    result["sqlite"] = find_sqlite(modules, root)
    result["alembic"] = find_alembic(root)
    result["isSqlalchemy"] = bool(base or result["engines"])
    print(json.dumps(result))


# ---------------------------------------------------------------- loading


class Module:
    def __init__(self, name: str, rel: str, source: str, tree: ast.Module):
        self.name = name
        self.rel = rel
        self.source = source
        self.tree = tree
        self.lines = source.split("\n")
        self.imports = collect_imports(tree, name, rel.endswith("__init__.py"))

    def col(self, line: int, byte_col: int) -> int:
        """ast columns are UTF-8 byte offsets; callers want code points."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> dict:
        return {
            "line": node.lineno,
            "col": self.col(node.lineno, node.col_offset),
            "endLine": node.end_lineno,
            "endCol": self.col(node.end_lineno, node.end_col_offset),
        }

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def is_alone(self, node: ast.stmt) -> bool:
        """True when nothing but whitespace or a comment shares the statement's lines."""
        first = self.lines[node.lineno - 1]
        last = self.lines[node.end_lineno - 1]
        before = first[: self.col(node.lineno, node.col_offset)]
        after = last[self.col(node.end_lineno, node.end_col_offset):].strip()
        return before.strip() == "" and (after == "" or after.startswith("#"))


def is_test_file(rel: str) -> bool:
    base = os.path.basename(rel)
    return base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py"


def load_modules(root: str) -> tuple[list[Module], list[dict]]:
    modules, errors = [], []
    src_layout = os.path.isdir(os.path.join(root, "src")) and not os.path.exists(os.path.join(root, "src", "__init__.py"))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if is_test_file(rel):
                continue
            dotted = rel[:-3]
            if src_layout and dotted.startswith("src/"):
                dotted = dotted[4:]
            parts = dotted.split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not parts or not all(p.isidentifier() for p in parts):
                continue
            try:
                with open(full, encoding="utf-8") as fh:
                    source = fh.read()
                tree = ast.parse(source, filename=rel)
            except (SyntaxError, UnicodeDecodeError, ValueError) as e:
                errors.append({"file": rel, "error": str(e).splitlines()[0]})
                continue
            modules.append(Module(".".join(parts), rel, source, tree))
    return modules, errors


def collect_imports(tree: ast.Module, modname: str, is_pkg: bool) -> dict:
    """Local name -> [module, attribute or None] for every import anywhere in the module."""
    out = {}
    package = modname if is_pkg else modname.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = [a.name, None]
                else:
                    out[a.name.split(".")[0]] = [a.name.split(".")[0], None]
        elif isinstance(node, ast.ImportFrom):
            src = node.module or ""
            if node.level:
                base = package.split(".") if package else []
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                src = ".".join([*base, *([node.module] if node.module else [])])
            for a in node.names:
                out[a.asname or a.name] = [src, a.name]
    return out


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        return f"{inner}()" if inner else None
    return None


def terminal(node: ast.AST) -> str | None:
    d = dotted(node)
    return d.rstrip("()").split(".")[-1] if d else None


def const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# ---------------------------------------------------------------- settings


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
            url["envKey"] = url["alias"] or (prefix + url["name"]).upper()
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
        })
    if not candidates:
        return None
    candidates.sort(key=lambda c: (not c["urlField"], not c["instance"]))
    return candidates[0] | {"others": [f'{c["module"]}:{c["className"]}' for c in candidates[1:]]}


# ---------------------------------------------------------------- declarative base and models


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
            })
    return out


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
                isinstance(s, ast.Expr) and any(is_create_all(n) for n in ast.walk(s)) for s in holder.body
            ):
                remove = holder
            container = parents.get(remove)
            siblings = next((getattr(container, f) for f in ("body", "orelse", "finalbody") if remove in getattr(container, f, [])), [])
            fname = func.name if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
            # A comment just above that announces the table creation ("# Startup: create the
            # tables") would be left describing nothing: it goes with the statement.
            first = remove.lineno
            while first > 1 and m.lines[first - 2].strip().startswith("#") and re.search(r"creat|table|schema", m.lines[first - 2], re.I):
                first -= 1
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
                "indent": m.col(remove.lineno, remove.col_offset),
                "alone": m.is_alone(remove),
                "leavesEmptyBody": len(siblings) == 1,
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


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(spec: str) -> dict | None:
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?", spec)
    if not m:
        return None
    extras = [normalize(e) for e in (m.group(3) or "").split(",") if e.strip()]
    return {"name": normalize(m.group(1)), "extras": extras}


def read_toml(path: str) -> dict:
    if tomllib is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError):
        return {}


def find_venv(root: str) -> dict | None:
    for name in (".venv", "venv", "env", ".env-venv"):
        d = os.path.join(root, name)
        if os.path.isfile(os.path.join(d, "pyvenv.cfg")):
            py = os.path.join(d, "Scripts", "python.exe") if os.name == "nt" else os.path.join(d, "bin", "python")
            installed = set()
            for lib in ("lib", "Lib"):
                base = os.path.join(d, lib)
                if not os.path.isdir(base):
                    continue
                for sub in os.listdir(base):
                    sp = os.path.join(base, sub, "site-packages") if sub.startswith("python") else os.path.join(base, "site-packages") if sub == "site-packages" else None
                    if sp and os.path.isdir(sp):
                        for entry in os.listdir(sp):
                            if entry.endswith(".dist-info"):
                                installed.add(normalize(entry[: -len(".dist-info")].rsplit("-", 1)[0]))
            return {"dir": name, "python": py, "installed": sorted(installed)}
    return None


def detect_manager(root: str) -> dict:
    pyproject_path = os.path.join(root, "pyproject.toml")
    pyproject = read_toml(pyproject_path) if os.path.exists(pyproject_path) else {}
    tool = pyproject.get("tool", {})
    deps = [r for r in (requirement(s) for s in pyproject.get("project", {}).get("dependencies", [])) if r]
    venv = find_venv(root)
    if os.path.exists(os.path.join(root, "uv.lock")) or "uv" in tool:
        kind, why = "uv", "uv.lock" if os.path.exists(os.path.join(root, "uv.lock")) else "[tool.uv] in pyproject.toml"
    elif "poetry" in tool or os.path.exists(os.path.join(root, "poetry.lock")):
        kind, why = "poetry", "[tool.poetry] in pyproject.toml" if "poetry" in tool else "poetry.lock"
        deps += [{"name": normalize(n), "extras": []} for n in tool.get("poetry", {}).get("dependencies", {}) if n != "python"]
    elif "project" in pyproject:
        kind, why = "uv", "pyproject.toml with a [project] table"
    elif os.path.exists(os.path.join(root, "requirements.txt")):
        kind, why = "pip", "requirements.txt" + (f" and {venv['dir']}/" if venv else "")
        with open(os.path.join(root, "requirements.txt"), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = line.split("#")[0].strip()
                if line and not line.startswith("-"):
                    r = requirement(line)
                    if r:
                        deps.append(r)
    else:
        kind, why = "unknown", "no uv.lock, pyproject.toml or requirements.txt"
    return {"kind": kind, "evidence": why, "dependencies": deps, "venv": venv}


# ---------------------------------------------------------------- alembic


def find_alembic(root: str) -> dict:
    ini = os.path.join(root, "alembic.ini")
    out = {"ini": os.path.exists(ini), "scriptLocation": None, "iniUrl": None, "dir": None, "env": None, "revisions": [], "heads": []}
    location = "alembic"
    if out["ini"]:
        cp = configparser.RawConfigParser()
        try:
            cp.read(ini, encoding="utf-8")
            location = cp.get("alembic", "script_location", fallback="alembic")
            out["iniUrl"] = bool(cp.get("alembic", "sqlalchemy.url", fallback="").strip())
        except configparser.Error:
            pass
        out["scriptLocation"] = location
    location = location.replace("%(here)s", root)
    d = location if os.path.isabs(location) else os.path.join(root, location)
    if not os.path.isdir(d):
        return out
    out["dir"] = os.path.relpath(d, root).replace(os.sep, "/")
    env_path = os.path.join(d, "env.py")
    if os.path.exists(env_path):
        try:
            with open(env_path, encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            metadata = None
            sets_url = False
            imported = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "target_metadata" for t in node.targets):
                    metadata = not (isinstance(node.value, ast.Constant) and node.value.value is None)
                if isinstance(node, ast.Call) and terminal(node.func) == "set_main_option" and node.args and const_str(node.args[0]) == "sqlalchemy.url":
                    sets_url = True
                if isinstance(node, ast.ImportFrom) and node.module:
                    imported.append(node.module)
                if isinstance(node, ast.Import):
                    imported.extend(a.name for a in node.names)
            out["env"] = {"targetMetadata": bool(metadata), "setsUrl": sets_url, "imports": imported}
        except (SyntaxError, OSError, ValueError) as e:
            out["env"] = {"error": str(e).splitlines()[0], "targetMetadata": False, "setsUrl": False, "imports": []}
    versions = os.path.join(d, "versions")
    revs = []
    for dirpath, _dirs, files in os.walk(versions):
        for fn in sorted(files):
            if not fn.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, fn), encoding="utf-8") as fh:
                    tree = ast.parse(fh.read())
            except (SyntaxError, OSError, ValueError):
                continue
            rev, down = None, []
            for node in tree.body:
                target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else node.target if isinstance(node, ast.AnnAssign) else None
                if not isinstance(target, ast.Name) or node.value is None:
                    continue
                if target.id == "revision":
                    rev = const_str(node.value)
                elif target.id == "down_revision":
                    v = node.value
                    down = [const_str(e) for e in v.elts] if isinstance(v, (ast.Tuple, ast.List)) else [const_str(v)] if const_str(v) else []
            if rev:
                revs.append({"id": rev, "down": [x for x in down if x], "file": os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")})
    out["revisions"] = revs
    parents = {p for r in revs for p in r["down"]}
    out["heads"] = [r["id"] for r in revs if r["id"] not in parents]
    return out


if __name__ == "__main__":
    main()
