"""Where a new import goes so the file still looks hand-written (and `ruff check --select I`
stays clean): in the section it belongs to (stdlib, third-party, first-party, local), in sorted
order, with a blank line between sections."""

from __future__ import annotations

import ast
import os
import sys

from .source import Module, const_str

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL = range(5)

STDLIB_NAMES = set(getattr(sys, "stdlib_module_names", ())) or {
    "abc", "asyncio", "collections", "contextlib", "datetime", "enum", "functools", "json", "logging",
    "os", "pathlib", "re", "sys", "typing", "uuid",
}


def first_party_names(modules: list[Module], root: str | None = None) -> set[str]:
    """Top-level names the project itself provides (its modules and packages)."""
    names = {m.name.split(".")[0] for m in modules}
    if root:
        for entry in os.listdir(root):
            if entry.endswith(".py"):
                names.add(entry[:-3])
            elif os.path.isfile(os.path.join(root, entry, "__init__.py")):
                names.add(entry)
    return names


def leading_imports(m: Module) -> list[ast.stmt]:
    """The import statements at the top of the module (after the docstring), in order."""
    out = []
    for i, node in enumerate(m.tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        elif i == 0 and isinstance(node, ast.Expr) and const_str(node.value) is not None:
            continue
        else:
            break
    return out


def section_of(node: ast.stmt, first_party: set[str]) -> int:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return LOCAL
        if node.module == "__future__":
            return FUTURE
        top = (node.module or "").split(".")[0]
    else:
        top = node.names[0].name.split(".")[0]
    if top in first_party:
        return FIRST_PARTY
    if top in STDLIB_NAMES:
        return STDLIB
    return THIRD_PARTY


def sort_key(node: ast.stmt) -> tuple:
    """ruff's isort defaults: `import x` before `from x import y`, modules case-insensitively,
    relative imports from the furthest to the closest."""
    if isinstance(node, ast.ImportFrom):
        return (1, -node.level, (node.module or "").lower())
    return (0, 0, node.names[0].name.lower())


def docstring_end(m: Module) -> int:
    body = m.tree.body
    if body and isinstance(body[0], ast.Expr) and const_str(body[0].value) is not None:
        return body[0].end_lineno
    return 0


def place_import(m: Module, statement: str, first_party: set[str]) -> dict:
    """Where `statement` (one import line) goes in `m`: {"after": line, "text": lines to insert}.
    `text` carries the blank lines that separate a new section from its neighbours."""
    new = ast.parse(statement).body[0]
    section, key = section_of(new, first_party), sort_key(new)
    block = leading_imports(m)
    line = statement.rstrip("\n") + "\n"
    same = [n for n in block if section_of(n, first_party) == section]
    if same:
        later = next((n for n in same if sort_key(n) > key), None)
        if later is None:
            return {"after": same[-1].end_lineno, "text": line}
        return {"after": leading_comment_start(m, later.lineno) - 1, "text": line}
    before = [n for n in block if section_of(n, first_party) < section]
    if before:
        return {"after": before[-1].end_lineno, "text": "\n" + line}
    if block:
        return {"after": leading_comment_start(m, block[0].lineno) - 1, "text": line + "\n"}
    start = docstring_end(m)
    return {"after": start, "text": ("\n" if start else "") + line + "\n"}


def after_imports(m: Module) -> int:
    """The last line of the leading import block (or the docstring, or 0)."""
    block = leading_imports(m)
    return block[-1].end_lineno if block else docstring_end(m)


def leading_comment_start(m: Module, line: int) -> int:
    """The first line of the comment lines directly above `line` (or `line` itself)."""
    while line > 1 and m.lines[line - 2].strip().startswith("#"):
        line -= 1
    return line
