"""Where the database URL comes from when the project has no settings class: a module constant
(`SQLALCHEMY_DATABASE_URL = "sqlite:///..."`), a literal inside create_engine(...), or the
environment (`os.getenv("DATABASE_URL", "sqlite:///...")`, `os.environ[...]`), and whether the
app loads `.env` (`load_dotenv()`)."""

from __future__ import annotations

import ast
import os

from .engines import module_constants
from .imports import after_imports, first_party_names, place_import
from .settings import SQLITE_URL, find_settings
from .source import Module, const_str, dotted, terminal

SETTINGS_NAMES = ("config", "settings", "db_settings")


def environ_read(node: ast.AST, m: Module) -> dict | None:
    """`os.getenv(K[, d])`, `os.environ.get(K[, d])`, `os.environ[K]` (and the from-imported
    forms): the key, the SQLite fallback, and the loud form to replace it with."""
    os_alias = next((n for n, (src, attr) in m.imports.items() if src == "os" and attr is None), None)
    environ_alias = next((n for n, (src, attr) in m.imports.items() if src == "os" and attr == "environ"), None)
    getenv_alias = next((n for n, (src, attr) in m.imports.items() if src == "os" and attr == "getenv"), None)
    environ_names = {f"{os_alias}.environ"} if os_alias else set()
    if environ_alias:
        environ_names.add(environ_alias)
    key = default = None
    if isinstance(node, ast.Subscript) and dotted(node.value) in environ_names:
        key = const_str(node.slice)
        environ = dotted(node.value)
    elif isinstance(node, ast.Call) and node.args:
        func = dotted(node.func) or ""
        if func.endswith(".get") and func[: -len(".get")] in environ_names:
            environ = func[: -len(".get")]
        elif (os_alias and func == f"{os_alias}.getenv") or (getenv_alias and func == getenv_alias):
            environ = f"{os_alias}.environ" if os_alias else environ_alias
        else:
            return None
        key = const_str(node.args[0])
        default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
    else:
        return None
    if key is None:
        return None
    sqlite_default = default is not None and bool(SQLITE_URL.match(const_str(default) or ""))
    return {
        "envKey": key,
        "text": m.text(node),
        "span": m.span(node),
        "sqliteFallback": sqlite_default,
        "hasFallback": default is not None,
        # Without the fallback a missing key must fail loudly, not hand None to create_engine.
        "replacement": f'{environ}["{key}"]' if sqlite_default and environ else None,
    }


def load_dotenv_calls(modules: list[Module]) -> list[dict]:
    out = []
    for m in modules:
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and terminal(node.func) == "load_dotenv":
                out.append({"module": m.name, "file": m.rel, "line": node.lineno})
    return out


def uses_relative_imports(modules: list[Module], package: str) -> bool:
    for m in modules:
        if m.name.rpartition(".")[0] == package or m.name == package:
            if any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(m.tree)):
                return True
    return False


def settings_module_for(m: Module, root: str, modules: list[Module]) -> dict:
    """A free module name beside the engine's module for the new settings."""
    folder = os.path.dirname(m.rel)
    package = m.name if m.rel.endswith("__init__.py") else m.name.rpartition(".")[0]
    taken = {x.name for x in modules}
    for name in SETTINGS_NAMES:
        rel = f"{folder}/{name}.py" if folder else f"{name}.py"
        dotted_name = f"{package}.{name}" if package else name
        if not os.path.exists(os.path.join(root, rel)) and dotted_name not in taken:
            break
    relative = bool(package) and uses_relative_imports(modules, package)
    statement = f"from .{name} import settings" if relative else f"from {dotted_name} import settings"
    return {"module": dotted_name, "file": rel, "importLine": statement}


def find_url_sources(modules: list[Module], root: str, settings: dict | None, overrides: dict) -> list[dict]:
    """One entry per engine whose URL pg-setup can take over without a settings class."""
    if settings:
        return []
    wanted = overrides.get("settings") or ""
    want_mod, _, want_name = wanted.partition(":")
    first_party = first_party_names(modules, root)
    # One load_dotenv() anywhere in the app is the project's idiom: a second one is noise.
    loads_dotenv = bool(load_dotenv_calls(modules))
    out = []
    for m in modules:
        consts = None
        for node in ast.walk(m.tree):
            if not (isinstance(node, ast.Call) and terminal(node.func) in ("create_engine", "create_async_engine")):
                continue
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "url"), None)
            if arg is None:
                continue
            consts = consts if consts is not None else module_constants(m)
            entry = {"module": m.name, "file": m.rel, "engineLine": node.lineno}
            value = arg
            if isinstance(arg, ast.Name) and arg.id in consts:
                entry["constant"] = arg.id
                value = consts[arg.id].value
            named = bool(wanted) and want_mod == m.name and want_name == entry.get("constant")
            if wanted and not named:
                continue
            env = environ_read(value, m)
            literal = const_str(value)
            if env:
                entry |= {"kind": "environ", "environ": env}
                entry["dotenvImport"] = None if loads_dotenv else place_import(m, "from dotenv import load_dotenv", first_party)
                entry["dotenvCallAfter"] = None if loads_dotenv else after_imports(m)
            elif literal is not None and (SQLITE_URL.match(literal) or named):
                entry |= {"kind": "constant" if "constant" in entry else "literal", "url": literal}
                target = settings_module_for(m, root, modules)
                entry["settingsModule"] = target
                entry["settingsImport"] = place_import(m, target["importLine"], first_party | {target["module"].split(".")[0]})
            else:
                continue
            out.append(entry)
    return out


def settings_after_takeover(modules: list[Module], overrides: dict) -> dict | None:
    """`--settings module:CONST` on a re-run: the constant is gone because pg-setup replaced it
    with a settings module beside it. Those settings are the answer, not an error."""
    mod, _, name = (overrides.get("settings") or "").partition(":")
    m = next((x for x in modules if x.name == mod), None)
    if m is None or not name.isidentifier() or name in module_constants(m):
        return None
    found = find_settings(modules, {**overrides, "settings": None})
    if found and found["module"].rpartition(".")[0] == mod.rpartition(".")[0]:
        return found
    return None
