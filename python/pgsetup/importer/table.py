"""One table's rows: read from SQLite in batches, rendered column by column into COPY's text
format, and hashed row by row, never the whole table in memory.

The content hash of a table is the number of rows and the sum (mod 2**64) of each row's MD5 over
its hash line: the columns' hash texts (importer/render.py) joined by tabs. A sum does not depend
on row order, and when appending, what the copy added is a difference. PostgreSQL computes the
same from the stored rows with `hash_query`, so nothing is committed unless both agree.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from typing import Any, Callable, Iterator

from .convert import BadValue
from .plan import ImportFailure, quote_ident, show_value
from .render import COPY_ESCAPES, NULL, Codec, codec_for, hash_sql

SPECIAL = re.compile(r"[\\\t\n\r]")
MOD = 2**64


def _md5_factory() -> Callable[[bytes], Any]:
    # CPython's own MD5 is about twice as fast as OpenSSL's for short inputs (no context setup).
    try:
        from _md5 import md5  # type: ignore[import-not-found]

        return md5
    except ImportError:
        import hashlib

        if sys.version_info >= (3, 9):
            return lambda data: hashlib.md5(data, usedforsecurity=False)
        return hashlib.md5


md5 = _md5_factory()


def lines_hash(lines: list[bytes]) -> int:
    """The sum of the rows' hashes: each row's MD5 as a 128-bit number, of which only the low 64
    bits count once the sum is taken mod 2**64, as PostgreSQL's
    `sum(('x' || right(md5(line), 16))::bit(64)::bigint)` does (hash_query)."""
    from_bytes = int.from_bytes
    return sum([from_bytes(md5(x).digest(), "big") for x in lines])


def line_hash(line: str) -> int:
    """One row's hash (mod 2**64)."""
    return lines_hash([line.encode("utf-8")]) % MOD


class ColumnValueError(Exception):
    """A value the general conversion refused: its position in the batch, the value, the reason."""

    def __init__(self, index: int, value: Any, reason: BadValue):
        super().__init__(str(reason))
        self.index = index
        self.value = value
        self.reason = reason


def _first_bad(codec: Codec, values: list) -> ColumnValueError:
    for i, v in enumerate(values):
        if v is not None:
            try:
                codec.slow(v)
            except BadValue as e:
                return ColumnValueError(i, v, e)
    raise AssertionError("a value failed once and converted the second time")


def render_column(codec: Codec, values: tuple | list) -> tuple[list[str], list[str]]:
    """One column of a batch -> (COPY texts, hash texts), NULL as \\N in both. The two lists are
    the same object when every value's COPY text is its hash text (the usual case)."""
    nonnull = tuple([v for v in values if v is not None]) if None in values else values
    out = codec.fast(nonnull) if codec.fast is not None else None
    if out is None:
        try:
            pairs = list(map(codec.slow, nonnull))
        except BadValue:
            raise _first_bad(codec, values) from None
        sent = [p[0] for p in pairs]
        hashed = sent if all(p[0] is p[1] for p in pairs) else [p[1] for p in pairs]
    else:
        sent, hashed = out
    if not codec.plain:
        joined = "".join(sent)
        escaped = [s.translate(COPY_ESCAPES) for s in sent] if SPECIAL.search(joined) else sent
        # A texty hash text doubles its backslashes (render.hash_sql), so the text \N is no NULL.
        if codec.texty and "\\" in (joined if hashed is sent else "".join(hashed)):
            hashed = [h.replace("\\", "\\\\") for h in hashed]
        sent = escaped
    if nonnull is values:
        return sent, hashed
    it = iter(sent)
    full = [NULL if v is None else next(it) for v in values]
    if hashed is sent:
        return full, full
    it = iter(hashed)
    return full, [NULL if v is None else next(it) for v in values]


class TableCopy:
    """What the copy sends for one table and what the verification compares: `chunks()` yields
    the COPY data a batch at a time; once it is exhausted, `n` and `h` are the table's row count
    and content hash."""

    def __init__(self, lite: sqlite3.Connection, target: str, spec: dict, pk: list[str]):
        self.lite = lite
        self.target = target
        pairs = spec["pairs"]
        self.names = [c["column"] for _, c in pairs]
        self.typnames = [c["typname"] for _, c in pairs]
        self.codecs = [codec_for(c) for _, c in pairs]
        self.pk_idx = [self.names.index(k) for k in pk if k in self.names]
        self.select = f"SELECT {', '.join(quote_ident(s) for s, _ in pairs)} FROM {quote_ident(spec['sqlite'])}"
        self.n = 0
        self.h = 0

    def key_of(self, raw: tuple, n: int) -> str:
        return ", ".join(f"{self.names[j]}={raw[j]!r}" for j in self.pk_idx) or f"row {n}"

    def chunks(self, batch: int = 5000, on_batch: Callable[[int], None] | None = None) -> Iterator[bytes]:
        cur = self.lite.execute(self.select)
        codecs = self.codecs
        n = 0
        h = 0
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            rendered = []
            for j, (codec, col) in enumerate(zip(codecs, zip(*rows))):
                try:
                    rendered.append(render_column(codec, col))
                except ColumnValueError as e:
                    raise self.bad_value(rows, n, j, e) from None
            data = ("\n".join(map("\t".join, zip(*[s for s, _ in rendered]))) + "\n").encode("utf-8")
            if all(s is x for s, x in rendered):
                # One line per row: no value sent holds a raw newline (escaped), so split finds the rows.
                hash_lines = data.split(b"\n")
                hash_lines.pop()
            else:
                hash_lines = [x.encode("utf-8") for x in map("\t".join, zip(*[x for _, x in rendered]))]
            h += lines_hash(hash_lines)
            n += len(rows)
            yield data
            if on_batch:
                on_batch(n)
        self.n, self.h = n, h % MOD

    def bad_value(self, rows: list, before: int, column: int, e: ColumnValueError) -> ImportFailure:
        raw = rows[e.index]
        key = self.key_of(raw, before + e.index + 1)
        name = self.names[column]
        return ImportFailure(
            "bad-value",
            f"{self.target} ({key}), column {name}: {show_value(name, e.value)} is {e.reason} (target type {self.typnames[column]})",
            table=self.target,
            key=key,
            column=name,
        )

    def digest(self, batch: int = 5000) -> tuple[int, int]:
        """(rows, content hash) without sending anything."""
        for _ in self.chunks(batch):
            pass
        return self.n, self.h

    def hash_query(self, utf8: bool = True) -> str:
        """count(*) and the content hash of the table's rows, computed by PostgreSQL."""
        row = " || E'\\t' || ".join(hash_sql(c) for c in self.codecs) or "''"
        text = row if utf8 else f"convert_to({row}, 'UTF8')"
        return f"SELECT count(*) AS n, coalesce(sum(('x' || right(md5({text}), 16))::bit(64)::bigint), 0) AS h FROM {quote_ident(self.target)}"

