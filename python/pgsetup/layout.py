"""The lines a removal takes with it, so that what is left looks hand-edited: the comment that
only described the removed code, and the blank lines that would otherwise double up."""

from __future__ import annotations

import re

from .source import Module

ANNOUNCES = re.compile(r"creat|table|schema", re.I)
# What may follow a comment's paragraph when the removed code was all of it.
PARAGRAPH_END = re.compile(r"^\s*($|#|yield\b|return\b)")


def removal_range(m: Module, first: int, last: int) -> tuple[int, int]:
    """Lines [from, to] to remove for the statement on lines first..last."""
    start = first
    indent = indent_of(m.lines[first - 1])
    above = start
    while above > 1 and m.lines[above - 2].strip().startswith("#") and indent_of(m.lines[above - 2]) == indent:
        above -= 1
    if above < start:
        comment = m.lines[above - 1 : start - 1]
        follows = m.lines[last] if last < len(m.lines) else ""
        dedented = follows.strip() != "" and indent_of(follows) < indent
        # The comment described only the removed code: it ends there, or it announced it.
        if PARAGRAPH_END.match(follows) or dedented or any(ANNOUNCES.search(c) for c in comment):
            start = above
    end = last
    # Comments right below that end the paragraph belong to it (the docs' commented-out
    # alternative `# SQLALCHEMY_DATABASE_URL = "postgresql://..."`).
    below = end
    while below < len(m.lines) and m.lines[below].strip().startswith("#") and indent_of(m.lines[below]) == indent:
        below += 1
    if below > end:
        follows = m.lines[below] if below < len(m.lines) else ""
        if follows.strip() == "" or indent_of(follows) < indent:
            end = below
    blank_before = count_blank(m, start - 1, -1)
    blank_after = count_blank(m, end + 1, 1)
    prev = start - 1 - blank_before  # the first non-blank line above, 0 when none
    nxt = end + blank_after + 1
    inside = nxt <= len(m.lines) and m.lines[nxt - 1].strip() != "" and indent_of(m.lines[nxt - 1]) >= indent
    if prev < 1 or (m.lines[prev - 1].rstrip().endswith(":") and inside):
        end += blank_after  # nothing above in this block: no blank line to keep
    else:
        end += min(blank_before, blank_after)
    return start, end


def indent_of(text: str) -> int:
    return len(text) - len(text.lstrip())


def count_blank(m: Module, line: int, step: int) -> int:
    n = 0
    while 1 <= line <= len(m.lines) and m.lines[line - 1].strip() == "":
        n += 1
        line += step
    return n
