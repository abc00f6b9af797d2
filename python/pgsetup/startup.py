"""Start-up code (lifespans, startup handlers) and the create_all calls it runs."""

from __future__ import annotations

import ast

from .layout import removal_range
from .source import Module, const_str, dotted, terminal


FuncKey = tuple  # (module, function name)


def is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`: code a script runs, never the app's start-up."""
    t = node.test if isinstance(node, ast.If) else None
    return isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__" and any(const_str(c) == "__main__" for c in t.comparators)


class CallGraph:
    """Who calls whom inside the project, resolved through imports where the code says."""

    def __init__(self, modules: list[Module]):
        self.modules = {m.name: m for m in modules}
        self.funcs: dict[FuncKey, ast.AST] = {}
        self.by_name: dict[str, list[FuncKey]] = {}
        for m in modules:
            for node in ast.walk(m.tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    key = (m.name, node.name)
                    self.funcs.setdefault(key, node)
                    self.by_name.setdefault(node.name, []).append(key)

    def resolve(self, m: Module, node: ast.AST) -> FuncKey | None:
        """The project function a call target (or a function handed on as a value) names."""
        if isinstance(node, ast.Name):
            if node.id in m.imports:
                src, attr = m.imports[node.id]
                if attr and (src, attr) in self.funcs:
                    return (src, attr)
            elif (m.name, node.id) in self.funcs:
                return (m.name, node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in m.imports:
            src, attr = m.imports[node.value.id]
            mod = f"{src}.{attr}" if attr else src
            if (mod, node.attr) in self.funcs:
                return (mod, node.attr)
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        # Not resolvable through the imports: a name only one project function has.
        cands = self.by_name.get(name or "", [])
        return cands[0] if len(cands) == 1 else None

    def callees(self, m: Module, body: ast.AST) -> set[FuncKey]:
        out = set()
        for sub in ast.walk(body):
            if isinstance(sub, ast.Call):
                for target in [sub.func, *sub.args]:  # run_sync(init_models) calls init_models
                    if isinstance(target, (ast.Name, ast.Attribute)):
                        key = self.resolve(m, target)
                        if key:
                            out.add(key)
        return out


def asgi_apps(modules: list[Module]) -> list[dict]:
    """The ASGI apps the project builds at module level (`app = FastAPI(...)`): module:name."""
    out = []
    for m in modules:
        for node in m.tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) and terminal(node.value.func) in ("FastAPI", "Starlette"):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                if isinstance(target, ast.Name):
                    out.append({"module": m.name, "name": target.id, "file": m.rel})
    # The app most likely started: one in a main/app module over a sub-application.
    out.sort(key=lambda a: (a["module"].split(".")[-1] not in ("main", "app", "server", "api"), a["module"].count(".")))
    return out


def app_modules(modules: list[Module]) -> list[Module]:
    """Modules that build an ASGI app."""
    names = {a["module"] for a in asgi_apps(modules)}
    return [m for m in modules if m.name in names]


def import_closure(modules: list[Module], roots: list[Module]) -> set[str]:
    """Every project module importing the app's modules executes (parent packages included)."""
    names = {m.name for m in modules}
    by_name = {m.name: m for m in modules}
    seen: set[str] = set()
    todo = [r.name for r in roots]
    while todo:
        name = todo.pop()
        if name in seen or name not in names:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        for src, attr in by_name[name].imports.values():
            todo.append(src)
            if attr:
                todo.append(f"{src}.{attr}")
    return seen


def startup_roots(modules: list[Module], graph: CallGraph) -> set[FuncKey]:
    """Lifespans, startup handlers, and functions the app's modules call at import."""
    roots: set[FuncKey] = set()
    for m in modules:
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    values = kw.value.elts if kw.arg == "on_startup" and isinstance(kw.value, (ast.List, ast.Tuple)) else [kw.value] if kw.arg == "lifespan" else []
                    for v in values:
                        key = graph.resolve(m, v)
                        if key:
                            roots.add(key)
                if terminal(node.func) == "add_event_handler" and len(node.args) == 2 and const_str(node.args[0]) == "startup":
                    key = graph.resolve(m, node.args[1])
                    if key:
                        roots.add(key)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decos = [dotted(d.func if isinstance(d, ast.Call) else d) or "" for d in node.decorator_list]
                if "lifespan" in node.name and any(d.endswith("contextmanager") for d in decos):
                    roots.add((m.name, node.name))
                for d in node.decorator_list:
                    if isinstance(d, ast.Call) and terminal(d.func) == "on_event" and d.args and const_str(d.args[0]) == "startup":
                        roots.add((m.name, node.name))
    return roots


def module_level(m: Module) -> list[ast.stmt]:
    """Statements that run when the module is imported (not defs, not the __main__ block)."""
    return [n for n in m.tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not is_main_guard(n)]


class Reach:
    """What the app's start-up runs: functions reachable from the roots, modules imported."""

    def __init__(self, modules: list[Module]):
        self.graph = CallGraph(modules)
        apps = app_modules(modules)
        # Without a FastAPI() in the project every module counts as imported (the old rule).
        self.imported = import_closure(modules, apps) if apps else {m.name for m in modules}
        roots = startup_roots(modules, self.graph)
        for m in modules:
            if m.name in self.imported:
                for stmt in module_level(m):
                    roots |= self.graph.callees(m, stmt)
        self.reached: set[FuncKey] = set()
        todo = list(roots)
        while todo:
            key = todo.pop()
            if key in self.reached or key not in self.graph.funcs:
                continue
            self.reached.add(key)
            todo.extend(self.graph.callees(self.graph.modules[key[0]], self.graph.funcs[key]))

    def call_sites(self, modules: list[Module], target: FuncKey) -> list[tuple[Module, ast.stmt, FuncKey | None, bool]]:
        """Each statement calling `target`: (module, statement, enclosing function, run at start-up)."""
        out = []
        for m in modules:
            parents = None  # built for the modules that call the target only
            for node in ast.walk(m.tree):
                if not (isinstance(node, ast.Call) and self.graph.resolve(m, node.func) == target):
                    continue
                parents = parents or parent_map(m.tree)
                stmt = node
                while not isinstance(stmt, ast.stmt):
                    stmt = parents[stmt]
                func, guard, up = None, False, parents.get(stmt)
                while up is not None and not isinstance(up, ast.Module):
                    if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None:
                        func = (m.name, up.name)
                    guard = guard or is_main_guard(up)
                    up = parents.get(up)
                started = (func in self.reached) if func else (m.name in self.imported and not guard)
                out.append((m, stmt, func, started))
        return out


def parent_map(tree: ast.AST) -> dict:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


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
    """Each create_all, whether the app's start-up reaches it, and the statement to remove.

    A helper that start-up reaches but that a script also calls (`if __name__ == "__main__"`,
    a CLI module the app never imports) is kept: the start-up's call of it is removed instead.
    """
    reach = Reach(modules)
    out = []
    for m in modules:
        # The parent map of every node is only needed in the few modules that call create_all:
        # at 500 models, building it for each module was a fifth of the analysis.
        parents = None
        for node in ast.walk(m.tree):
            if not is_create_all(node):
                continue
            parents = parents or parent_map(m.tree)
            if isinstance(parents.get(node), ast.Call) and is_create_all(parents[node]):
                continue
            stmt = node
            while not isinstance(stmt, ast.stmt):
                stmt = parents[stmt]
            func, guard, up = None, False, parents.get(stmt)
            while up is not None and not isinstance(up, ast.Module):
                if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None:
                    func = up
                guard = guard or is_main_guard(up)
                up = parents.get(up)
            fname = func.name if func else None
            started = ((m.name, fname) in reach.reached) if func else (m.name in reach.imported and not guard)
            # `async with engine.begin() as conn:` that only wraps create_all goes too.
            remove = stmt
            holder = parents.get(stmt)
            if isinstance(holder, (ast.With, ast.AsyncWith)) and all(
                isinstance(s, ast.Expr) and any(is_schema_call(n) for n in ast.walk(s)) for s in holder.body
            ):
                remove = holder
            entry = removal(m, remove, parents, fname) | {"inStartup": started, "remove": True}
            if started and func is not None:
                sites = reach.call_sites(modules, (m.name, fname))
                others = [s for s in sites if not s[3]]
                if others:
                    # A script uses the helper too: keep it, cut the start-up's calls of it.
                    entry["remove"] = False
                    entry["keptFor"] = sorted({f"{s[0].rel}:{s[1].lineno}" for s in others})
                    for sm, sstmt, sfunc, sstarted in sites:
                        if sstarted:
                            p = parent_map(sm.tree)
                            call = removal(sm, sstmt, p, sfunc[1] if sfunc else None)
                            out.append(call | {"inStartup": True, "remove": True, "isCall": True, "calls": fname})
            out.append(entry)
    return out


def removal(m: Module, remove: ast.stmt, parents: dict, fname: str | None) -> dict:
    container = parents.get(remove)
    siblings = next((getattr(container, f) for f in ("body", "orelse", "finalbody") if remove in getattr(container, f, [])), [])
    # A drop_all just before it would empty PostgreSQL at every start: it goes too.
    at = siblings.index(remove) if remove in siblings else -1
    drop = siblings[at - 1] if at > 0 else None
    start_stmt = drop if isinstance(drop, ast.Expr) and is_schema_call(drop.value) and drop.value.func.attr == "drop_all" else remove
    # A comment just above that announces the table creation ("# Startup: create the tables")
    # goes with the statement, and no doubled blank line is left behind.
    first, last = removal_range(m, start_stmt.lineno, remove.end_lineno)
    return {
        "module": m.name,
        "file": m.rel,
        "function": fname,
        "unusedImports": imports_unused_after(m, remove),
        "text": m.text(remove),
        "line": remove.lineno,
        "removeFrom": first,
        "endLine": remove.end_lineno,
        "removeTo": last,
        "indent": m.col(remove.lineno, remove.col_offset),
        "alone": m.is_alone(remove),
        "leavesEmptyBody": len(siblings) == (2 if start_stmt is not remove else 1),
    }


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
                "aliasTexts": [m.text(a) for a in node.names],
            })
    return out
