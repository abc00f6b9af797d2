"""An existing Alembic setup: alembic.ini, env.py wiring, revisions and heads."""

from __future__ import annotations

import ast
import configparser
import os

from .source import const_str, terminal


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

