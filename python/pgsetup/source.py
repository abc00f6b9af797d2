"""Parsed project sources: one Module per .py file, and small ast helpers shared by every pass."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from contextlib import contextmanager

SKIP_DIRS = {
    "node_modules", "__pycache__", "venv", "env", "site-packages", "build", "dist",
    "tests", "test", "migrations", "alembic", "htmlcov",
}


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

    def is_alone_expr(self, node: ast.AST) -> bool:
        """True when the node starts its line (only indentation before it)."""
        return self.lines[node.lineno - 1][: self.col(node.lineno, node.col_offset)].strip() == ""


@contextmanager
def memoized_walk() -> Iterator[None]:
    """Within it, ast.walk hands out each node's walk from a cache.

    The analysis makes a dozen read-only passes over every module, each with its own ast.walk;
    on a 500-model project (530 KiB of models) those walks were three quarters of the analysis
    (bench/RESULTS.md). Only for trees nobody changes meanwhile, which the analysis never does.
    """
    original = ast.walk
    cache: dict[ast.AST, list[ast.AST]] = {}

    def walk(node: ast.AST) -> Iterator[ast.AST]:
        nodes = cache.get(node)
        if nodes is None:
            nodes = cache[node] = list(original(node))
        return iter(nodes)

    ast.walk = walk
    try:
        yield
    finally:
        ast.walk = original


def is_test_file(rel: str) -> bool:
    base = os.path.basename(rel)
    return base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py"


def imports_src(tree: ast.Module) -> bool:
    """`from src.db import ...` / `import src.main`: the app is started as `uvicorn src.main:app`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module and (node.module == "src" or node.module.startswith("src.")):
            return True
        if isinstance(node, ast.Import) and any(a.name == "src" or a.name.startswith("src.") for a in node.names):
            return True
    return False


def load_modules(root: str) -> tuple[list[Module], list[dict]]:
    modules, errors = load_sources(root, strip_src=False)
    # A src/ folder that is not itself a package, whose code never imports `src.`: its modules
    # are imported from src/ (`--app-dir src`, or the package installed from src/).
    if src_import_root(root, modules) == "src":
        modules, errors = load_sources(root, strip_src=True)
    return modules, errors


def src_import_root(root: str, modules: list[Module]) -> str:
    """The folder the app imports its modules from: `src` for a src layout, else `.`."""
    if not os.path.isdir(os.path.join(root, "src")) or os.path.exists(os.path.join(root, "src", "__init__.py")):
        return "."
    if not any(m.rel.startswith("src/") for m in modules):
        return "."
    return "." if any(imports_src(m.tree) for m in modules) else "src"


def load_sources(root: str, strip_src: bool) -> tuple[list[Module], list[dict]]:
    modules, errors = [], []
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
            if strip_src and dotted.startswith("src/"):
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
