"""Copy the rows of the app's old SQLite file into the PostgreSQL tables Alembic created.

Run by pg-setup with the project's own interpreter (python/import_sqlite.py), which has the
standard library's sqlite3 and the app's driver (psycopg 3, else asyncpg). Input (stdin, JSON):
  {"sqlite": path, "intoNonempty": bool, "tables": [model tables] | null}
Environment: PGSETUP_IMPORT_URL, the app's URL (a secret, so never in argv).
Prints JSON lines on stdout: {"event": "plan" | "progress" | "done" | "error", ...}.

The schema is the app's: the tables at Alembic's head, read from pg_catalog in one query.
Values are converted by the TARGET column's type, not by SQLite's loose affinity. Everything
runs in ONE transaction: the copy, the verification (row count and an order-independent hash
of each row's normalised values, computed on both sides) and setval, so a failure anywhere,
or Ctrl-C, leaves PostgreSQL as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import struct
import sys
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

UTC = dt.timezone.utc
FAILED = 3

# ---------------------------------------------------------------- conversions (pure)


class BadValue(ValueError):
    """A SQLite value the target column cannot hold."""


_DATETIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.I,
)
_TIME = re.compile(r"^\s*(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*$")
_INT_RANGE = {"int2": 2**15, "int4": 2**31, "int8": 2**63}
_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off"}


def _micro(frac: str | None) -> int:
    # Beyond microseconds PostgreSQL rounds too; truncating keeps the digits the app wrote.
    return int((frac or "0")[:6].ljust(6, "0"))


def _offset(tz: str | None) -> dt.tzinfo | None:
    if not tz:
        return None
    if tz.upper() == "Z":
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return dt.timezone(sign * dt.timedelta(minutes=minutes))


def parse_datetime(value: Any) -> dt.datetime:
    """SQLite's text datetimes: `2024-05-01 10:00:00`, with `T`, fractional seconds, `+00:00`, `Z`."""
    if not isinstance(value, str):
        raise BadValue("not a datetime text")
    m = _DATETIME.match(value)
    if not m:
        raise BadValue("not a datetime (YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM])")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        return dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _micro(frac), _offset(tz))
    except ValueError as e:
        raise BadValue(str(e)) from None


def to_timestamptz(value: Any) -> dt.datetime:
    """Naive values are taken as UTC (SQLAlchemy's SQLite dialect stores no offset)."""
    v = parse_datetime(value)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v


def to_timestamp(value: Any) -> dt.datetime:
    """A value with an offset is converted to UTC before the offset is dropped (PostgreSQL would ignore it)."""
    v = parse_datetime(value)
    return v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None)


def to_date(value: Any) -> dt.date:
    v = parse_datetime(value)
    if (v.hour, v.minute, v.second, v.microsecond) != (0, 0, 0, 0):
        raise BadValue("has a time of day; the column is a date")
    return v.date()


def to_time(value: Any) -> dt.time:
    if not isinstance(value, str) or not (m := _TIME.match(value)):
        raise BadValue("not a time (HH:MM:SS[.ffffff])")
    h, mi, s, frac = m.groups()
    try:
        return dt.time(int(h), int(mi), int(s or 0), _micro(frac))
    except ValueError as e:
        raise BadValue(str(e)) from None


def to_bool(value: Any) -> bool:
    """SQLite has no boolean: SQLAlchemy writes 0/1; text forms are accepted too."""
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise BadValue("not a boolean (0 or 1)")


def int_converter(typname: str) -> Callable[[Any], int]:
    limit = _INT_RANGE.get(typname, 2**63)

    def convert(value: Any) -> int:
        if isinstance(value, int):
            v = value
        elif isinstance(value, float) and value.is_integer():
            v = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            v = int(value)
        else:
            raise BadValue("not an integer")
        if not -limit <= v < limit:
            raise BadValue(f"out of range for {typname}")
        return v

    return convert


def to_decimal(value: Any) -> Decimal:
    """Numeric without float rounding: a REAL goes through its shortest repr (19.99, not 19.989999...)."""
    try:
        if isinstance(value, bool):
            raise BadValue("not a number")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, str):
            d = Decimal(value.strip())
            return d
    except InvalidOperation:
        pass
    raise BadValue("not a number")


def numeric_converter(precision: int | None, scale: int | None) -> Callable[[Any], Decimal]:
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def convert(value: Any) -> Decimal:
        d = to_decimal(value)
        if not d.is_finite():
            if d.is_nan():
                return d
            raise BadValue("infinite")
        if quantum is not None:
            d = d.quantize(quantum, rounding=ROUND_HALF_UP)  # PostgreSQL rounds half away from zero too
            if precision is not None and d.adjusted() >= precision - scale:
                raise BadValue(f"too large for numeric({precision},{scale})")
        return d

    return convert


def to_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise BadValue("not a number")


def text_converter(max_len: int | None) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if isinstance(value, str):
            v = value
        elif isinstance(value, (int, float)):
            v = repr(value) if isinstance(value, float) else str(value)
        elif isinstance(value, bytes):
            try:
                v = value.decode("utf-8")
            except UnicodeDecodeError:
                raise BadValue("bytes that are not UTF-8 text") from None
        else:
            raise BadValue("not text")
        if "\x00" in v:
            raise BadValue("contains a NUL character, which PostgreSQL text cannot hold")
        if max_len is not None and len(v) > max_len:
            raise BadValue(f"longer than {max_len} characters")
        return v

    return convert


def json_converter(binary: bool) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text) if isinstance(text, float) else str(text)
        if not isinstance(text, str):
            raise BadValue("not JSON text")
        try:
            json.loads(text)
        except ValueError:
            raise BadValue("not valid JSON") from None
        if binary and "\\u0000" in text:
            raise BadValue("has \\u0000, which jsonb cannot hold")
        return text

    return convert


def to_uuid(value: Any) -> uuid.UUID:
    """UUID text (with or without dashes, as SQLAlchemy's Uuid stores it on SQLite) or a 16-byte blob."""
    try:
        if isinstance(value, bytes) and len(value) == 16:
            return uuid.UUID(bytes=value)
        if isinstance(value, str):
            return uuid.UUID(value.strip())
    except ValueError:
        pass
    raise BadValue("not a UUID")


def to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise BadValue("not binary data")


def enum_converter(labels: list[str]) -> Callable[[Any], str]:
    allowed = set(labels)

    def convert(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        raise BadValue(f"not one of the enum's labels ({', '.join(labels)})")

    return convert


def passthrough(value: Any) -> Any:
    return value


def converter_for(col: dict) -> Callable[[Any], Any]:
    """The conversion from a SQLite value to what the target column holds (NULL stays NULL, outside)."""
    t = col["typname"]
    if col.get("labels") is not None:
        return enum_converter(col["labels"])
    if t == "bool":
        return to_bool
    if t in _INT_RANGE:
        return int_converter(t)
    if t == "numeric":
        return numeric_converter(col.get("precision"), col.get("scale"))
    if t in ("float4", "float8"):
        return to_float
    if t in ("text", "varchar", "bpchar", "citext", "name"):
        return text_converter(col.get("maxlen"))
    if t in ("json", "jsonb"):
        return json_converter(t == "jsonb")
    if t == "uuid":
        return to_uuid
    if t == "bytea":
        return to_bytes
    if t == "timestamptz":
        return to_timestamptz
    if t == "timestamp":
        return to_timestamp
    if t == "date":
        return to_date
    if t == "time":
        return to_time
    return passthrough


# ---------------------------------------------------------------- normalised values (the content hash)


def _jsonb_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\u{o:04x}"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _jsonb_text(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _jsonb_string(v)
    if isinstance(v, (int, Decimal)):
        d = Decimal(v)
        return "0" if d.is_zero() else format(d, "f")
    if isinstance(v, list):
        return "[" + ", ".join(_jsonb_text(x) for x in v) + "]"
    # jsonb orders keys by length, then bytewise.
    keys = sorted(v, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
    return "{" + ", ".join(f"{_jsonb_string(k)}: {_jsonb_text(v[k])}" for k in keys) + "}"


def jsonb_canonical(text: str) -> str:
    """The text PostgreSQL prints for a jsonb value, computed without PostgreSQL."""
    return _jsonb_text(json.loads(text, parse_float=Decimal, parse_int=int))


def _frac(us: int) -> str:
    return "." + f"{us:06d}".rstrip("0") if us else ""


def _ts(v: dt.datetime) -> str:
    """PostgreSQL's own text for a timestamp (DateStyle ISO): fraction trimmed, absent when zero."""
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}{_frac(v.microsecond)}"


def canonical_for(col: dict) -> tuple[Callable[[Any], str], str]:
    """(python: converted value -> text, sql: expression over the column giving the same text)."""
    t = col["typname"]
    q = quote_ident(col["column"])
    if t == "bool":
        return (lambda v: "true" if v else "false"), f"{q}::text"
    if t in ("float4", "float8"):
        fmt = ">f" if t == "float4" else ">d"
        return (lambda v: struct.pack(fmt, v).hex()), f"encode({t}send({q}), 'hex')"
    if t == "numeric":
        return (lambda v: format(v, "f") if v.is_finite() else "NaN"), f"{q}::text"
    if t == "bpchar":
        return (lambda v: v.rstrip(" ")), f"{q}::text"
    if t == "jsonb":
        return jsonb_canonical, f"{q}::text"
    if t == "bytea":
        return (lambda v: v.hex()), f"encode({q}, 'hex')"
    # Plain ::text is the cheapest on the server; the session has TimeZone UTC and DateStyle ISO.
    if t == "timestamptz":
        return (lambda v: _ts(v.astimezone(UTC)) + "+00"), f"{q}::text"
    if t == "timestamp":
        return _ts, f"{q}::text"
    if t == "date":
        return (lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d}"), f"{q}::text"
    if t == "time":
        return (lambda v: f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}{_frac(v.microsecond)}"), f"{q}::text"
    return str, f"{q}::text"


def row_text(parts: list[str | None]) -> str:
    """The values joined by NUL (no PostgreSQL text or canonical form holds one), then a mask of
    which were NULL: unambiguous whatever the values hold, and cheap to build."""
    if None in parts:
        return "\x00".join([p if p is not None else "" for p in parts]) + "\x00" + "".join(["1" if p is None else "0" for p in parts])
    return "\x00".join(parts) + "\x00" + "0" * len(parts)


def row_hash(text: str) -> int:
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:8], "big", signed=True)


def sql_table_hash(table: str, exprs: list[str]) -> str:
    """count(*) and the sum of each row's hash: order-independent, so any row order matches."""
    nul = "'\\x00'::bytea"
    values = f" || {nul} || ".join(f"convert_to(coalesce({e}, ''), 'UTF8')" for e in exprs)
    mask = " || ".join(f"CASE WHEN {e} IS NULL THEN '1' ELSE '0' END" for e in exprs)
    row = f"md5({values} || {nul} || convert_to({mask}, 'UTF8'))" if exprs else "md5('')"
    return f"SELECT count(*) AS n, coalesce(sum(('x' || left({row}, 16))::bit(64)::bigint), 0) AS h FROM {quote_ident(table)}"


_SA_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def pair_for(col: dict, text_mode: bool) -> Callable[[Any], tuple[Any, str]]:
    """value -> (what COPY gets, its normalised text). In text mode (psycopg's text COPY) the
    shapes SQLAlchemy's SQLite dialect writes take a fast path that builds no Python objects;
    anything else goes through converter_for and canonical_for."""
    conv = converter_for(col)
    canon = canonical_for(col)[0]

    def slow(v: Any) -> tuple[Any, str]:
        c = conv(v)
        return c, canon(c)

    t = col["typname"]
    if not text_mode or col.get("labels") is not None:
        return slow
    if t in ("timestamptz", "timestamp"):
        suffix = "+00" if t == "timestamptz" else ""
        match = _SA_DATETIME.fullmatch

        def ts(v: Any) -> tuple[Any, str]:
            # SQLAlchemy's own format, naive (UTC for timestamptz); PostgreSQL checks the ranges.
            if type(v) is str and len(v) == 26 and match(v):
                frac = v[20:].rstrip("0")
                return v + suffix, v[:19] + ("." + frac if frac else "") + suffix
            return slow(v)

        return ts
    if t == "bool":
        table = {0: (False, "false"), 1: (True, "true")}

        def boolean(v: Any) -> tuple[Any, str]:
            r = table.get(v) if type(v) is int else None
            return r if r is not None else slow(v)

        return boolean
    if t in _INT_RANGE:
        limit = _INT_RANGE[t]

        def integer(v: Any) -> tuple[Any, str]:
            if type(v) is int and -limit <= v < limit:
                return v, str(v)
            return slow(v)

        return integer
    if t in ("text", "varchar"):
        maxlen = col.get("maxlen")

        def text(v: Any) -> tuple[Any, str]:
            if type(v) is str and "\x00" not in v and (maxlen is None or len(v) <= maxlen):
                return v, v
            return slow(v)

        return text
    if t == "numeric" and col.get("scale") is not None:
        scale, precision = col["scale"], col["precision"]

        def numeric(v: Any) -> tuple[Any, str]:
            # A REAL's shortest repr, when it already fits the column: pad the scale as PostgreSQL prints it.
            if type(v) is float:
                r = repr(v)
                ip, _, fp = r.partition(".")
                if "e" not in r and "n" not in r and not r.startswith("-0") and len(fp) <= scale and len(ip.lstrip("-")) <= precision - scale:
                    return r, (ip + "." + fp.ljust(scale, "0")) if scale else ip
            return slow(v)

        return numeric
    return slow


# ---------------------------------------------------------------- plan (pure)

_SECRET_COLUMN = re.compile(r"pass|secret|token|hash|key|salt|otp|credential", re.I)


def show_value(column: str, value: Any) -> str:
    """The value for an error message: masked when the column looks like a secret, and short."""
    if _SECRET_COLUMN.search(column):
        return "****"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def order_tables(tables: list[str], fks: list[dict]) -> tuple[list[str], list[dict]]:
    """Parents before children. Where the graph has a cycle across tables, the first table left
    is placed and its foreign keys to tables not yet copied are returned to be deferred.
    Self-references need nothing: one COPY per table, and PostgreSQL checks a non-deferrable
    foreign key at the end of the statement, so parent and child rows may come in any order."""
    chosen = set(tables)
    parents = {t: set() for t in tables}
    for fk in fks:
        if fk["child"] in chosen and fk["parent"] in chosen and fk["child"] != fk["parent"]:
            parents[fk["child"]].add(fk["parent"])
    placed: list[str] = []
    deferred: list[dict] = []
    left = sorted(tables)
    while left:
        ready = [t for t in left if parents[t] <= set(placed)]
        if not ready:
            t = left[0]
            deferred += [fk for fk in fks if fk["child"] == t and fk["parent"] in set(left) and fk["parent"] != t]
            ready = [t]
        for t in ready:
            placed.append(t)
            left.remove(t)
    return placed, deferred


def match_tables(sqlite_cols: dict[str, list[str]], pg_cols: dict[str, list[dict]], models: list[str] | None) -> dict:
    """Which tables and columns are copied, and everything that is not, to be listed."""
    skip = {"alembic_version"}
    wanted = {m.split(".")[-1] for m in models} if models else None
    lower_pg = {t.lower(): t for t in pg_cols}
    tables: dict[str, dict] = {}
    notes: list[str] = []
    for s_table in sorted(sqlite_cols):
        if s_table in skip:
            continue
        target = s_table if s_table in pg_cols else lower_pg.get(s_table.lower())
        if target is None:
            notes.append(f"SQLite table {s_table} has no table in PostgreSQL: not imported")
            continue
        if wanted is not None and target not in wanted:
            notes.append(f"SQLite table {s_table} is not mapped by the models: not imported")
            continue
        by_lower = {c["column"].lower(): c for c in pg_cols[target] if not c.get("generated")}
        pairs = []
        for s_col in sqlite_cols[s_table]:
            c = by_lower.get(s_col.lower())
            if c is None:
                notes.append(f"column {s_table}.{s_col} has no column in PostgreSQL: not imported")
            else:
                pairs.append((s_col, c))
        taken = {c["column"] for _, c in pairs}
        for c in pg_cols[target]:
            if c["column"] not in taken and not c.get("generated"):
                if c["notnull"] and not c.get("hasdefault"):
                    raise ImportFailure("missing-column", f"{target}.{c['column']} is NOT NULL without a default and the SQLite table has no such column")
                notes.append(f"column {target}.{c['column']} is not in SQLite: filled by its default")
        tables[target] = {"sqlite": s_table, "pairs": pairs}
    for t in sorted(pg_cols):
        if t not in skip and t not in tables and (wanted is None or t in wanted) and not any(t == v["sqlite"] for v in tables.values()):
            if not any(n.startswith(f"SQLite table {t} ") for n in notes):
                notes.append(f"table {t} has no SQLite table: left as it is")
    return {"tables": tables, "notes": notes}


class ImportFailure(Exception):
    def __init__(self, kind: str, detail: str, **extra: Any):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.extra = extra


# ---------------------------------------------------------------- the database side

CATALOG = """
SELECT json_build_object(
  'columns', (SELECT coalesce(json_agg(json_build_object(
      'table', c.relname, 'column', a.attname, 'typname', coalesce(bt.typname, t.typname),
      'notnull', a.attnotnull, 'hasdefault', a.atthasdef OR a.attidentity <> '',
      'generated', a.attgenerated <> '',
      'maxlen', CASE WHEN coalesce(bt.typname, t.typname) IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END,
      'precision', CASE WHEN coalesce(bt.typname, t.typname) = 'numeric' AND a.atttypmod > 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END,
      'scale', CASE WHEN coalesce(bt.typname, t.typname) = 'numeric' AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535 END,
      'labels', CASE WHEN t.typtype = 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,
      'sequence', pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
    ) ORDER BY c.relname, a.attnum), '[]'::json)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')),
  'constraints', (SELECT coalesce(json_agg(json_build_object(
      'name', con.conname, 'type', con.contype, 'child', ch.relname, 'parent', pa.relname,
      'deferrable', con.condeferrable, 'definition', pg_get_constraintdef(con.oid),
      'owned', pg_has_role(current_user, ch.relowner, 'USAGE'),
      'columns', (SELECT json_agg(a.attname ORDER BY k.o) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, o)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
    )), '[]'::json)
    FROM pg_constraint con
    JOIN pg_class ch ON ch.oid = con.conrelid
    LEFT JOIN pg_class pa ON pa.oid = con.confrelid
    WHERE con.contype IN ('f', 'p') AND ch.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))
) AS catalog
"""


class Psycopg:
    """psycopg 3: text COPY with write_row (its C adapters turn the Python values into text)."""

    text_mode = True

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)

    def query(self, sql: str) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []

    def copy(self, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
        cols = ", ".join(quote_ident(c) for c in columns)
        with self.conn.cursor() as cur:
            try:
                # psycopg >= 3.1: a thread sends while this one converts (libpq releases the GIL).
                from psycopg.copy import QueuedLibpqWriter

                writer = {"writer": QueuedLibpqWriter(cur)}
            except ImportError:
                writer = {}
            with cur.copy(f"COPY {quote_ident(table)} ({cols}) FROM STDIN", **writer) as cp:
                for row in rows:
                    cp.write_row(row)

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class Asyncpg:
    """asyncpg (`--driver asyncpg` projects): binary COPY with copy_records_to_table, on a private loop."""

    text_mode = False

    def __init__(self, url: str):
        import asyncio

        import asyncpg

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(url))
        self.tx = self.conn.transaction()
        self.loop.run_until_complete(self.tx.start())

    def query(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.loop.run_until_complete(self.conn.fetch(sql))]

    def copy(self, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
        self.loop.run_until_complete(self.conn.copy_records_to_table(table, records=rows, columns=columns))

    def commit(self) -> None:
        self.loop.run_until_complete(self.tx.commit())

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def connect(url: str):
    """psycopg when the project has it (the default driver), else asyncpg."""
    plain = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        try:
            import asyncpg  # noqa: F401
        except ImportError:
            raise ImportFailure("no-driver", "the project's Python has neither psycopg nor asyncpg") from None
        return Asyncpg(plain)
    return Psycopg(plain)


def read_catalog(db) -> tuple[dict[str, list[dict]], list[dict]]:
    cat = db.query(CATALOG)[0][0]
    if isinstance(cat, str):
        cat = json.loads(cat)
    cols: dict[str, list[dict]] = {}
    for c in cat["columns"]:
        cols.setdefault(c["table"], []).append(c)
    return cols, cat["constraints"]


def read_sqlite(path: str) -> sqlite3.Connection:
    # Read-only: the import never changes the file it imports.
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise ImportFailure("not-sqlite", f"{Path(path).name} cannot be read as a SQLite database ({e})") from None
    return conn


def sqlite_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    return {n: [r[1] for r in conn.execute(f"PRAGMA table_info({quote_ident(n)})")] for n in names}


class Emitter:
    def __init__(self, stream=sys.stdout):
        self.stream = stream

    def __call__(self, event: str, **data: Any) -> None:
        self.stream.write(json.dumps({"event": event, **data}, default=str) + "\n")
        self.stream.flush()


class TableStream:
    """One table's rows read from SQLite and converted by the target columns, in batches (never
    the whole table in memory), with the running count and sum of row hashes: what the copy
    sends and what the verification, or the search for a finished import, compares."""

    def __init__(self, lite: sqlite3.Connection, target: str, spec: dict, pk: list[str], text_mode: bool):
        self.lite = lite
        self.target = target
        self.pairs = spec["pairs"]
        self.fns = [pair_for(c, text_mode) for _, c in self.pairs]
        self.names = [c["column"] for _, c in self.pairs]
        self.pk_idx = [self.names.index(k) for k in pk if k in self.names]
        self.select = f"SELECT {', '.join(quote_ident(s) for s, _ in self.pairs)} FROM {quote_ident(spec['sqlite'])}"
        self.n = 0
        self.h = 0

    def key_of(self, raw: tuple, n: int) -> str:
        return ", ".join(f"{self.names[j]}={raw[j]!r}" for j in self.pk_idx) or f"row {n}"

    def bad(self, raw: tuple, n: int) -> ImportFailure:
        for name, f, v, (_, col) in zip(self.names, self.fns, raw, self.pairs):
            try:
                if v is not None:
                    f(v)
            except BadValue as e:
                key = self.key_of(raw, n)
                return ImportFailure("bad-value", f"{self.target} ({key}), column {name}: {show_value(name, v)} is {e} (target type {col['typname']})", table=self.target, key=key, column=name)
        return ImportFailure("bad-value", f"{self.target} ({self.key_of(raw, n)}): a value could not be converted")

    def rows(self, batch: int, on_batch: Callable[[int], None] | None = None) -> Iterator[list]:
        """The converted rows; self.n and self.h are final once the iterator is exhausted."""
        cur = self.lite.execute(self.select)
        fns = self.fns
        n = 0
        h = 0
        md5 = hashlib.md5
        from_bytes = int.from_bytes
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                break
            for raw in chunk:
                out = []
                parts = []
                try:
                    for f, v in zip(fns, raw):
                        if v is None:
                            out.append(None)
                            parts.append(None)
                        else:
                            c, t = f(v)
                            out.append(c)
                            parts.append(t)
                except BadValue:
                    raise self.bad(raw, n + 1) from None
                h += from_bytes(md5(row_text(parts).encode()).digest()[:8], "big", signed=True)
                n += 1
                yield out
            if on_batch:
                on_batch(n)
        self.n, self.h = n, h

    def digest(self, batch: int = 2000) -> tuple[int, int]:
        """(rows, sum of row hashes) without sending anything."""
        for _ in self.rows(batch):
            pass
        return self.n, self.h


def copy_table(db, lite: sqlite3.Connection, target: str, spec: dict, pk: list[str], total: int, emit: Emitter, batch: int) -> tuple[int, int]:
    """Stream one table: SQLite cursor -> convert by target column -> COPY. Returns (rows, sum of row hashes)."""
    stream = TableStream(lite, target, spec, pk, db.text_mode)
    last = [time.monotonic()]

    def progress(n: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            emit("progress", table=target, done=n, total=total)

    try:
        db.copy(target, stream.names, stream.rows(batch, progress))
    except ImportFailure:
        raise
    except Exception as e:
        raise server_rejection(e, lite, stream.select, target, stream.key_of) from None
    emit("progress", table=target, done=stream.n, total=total)
    return stream.n, stream.h


def find_finished_import(db, lite: sqlite3.Connection, targets: dict, order: list[str], totals: dict[str, int], existing: dict[str, int], pks: dict[str, list[str]]) -> list[dict] | None:
    """A process killed between PostgreSQL's commit and the record in state.json leaves the rows
    without a record. They are this file's import when every target table holds exactly the
    SQLite table's rows: the same count, and the same content hash. Returns the tables, else None."""
    if not any(existing.values()) or any(existing[t] != totals[t] for t in order):
        return None
    pg = table_hashes(db, targets, order)
    found = []
    for t in order:
        n, h = TableStream(lite, t, targets[t], pks.get(t, []), db.text_mode).digest()
        if pg[t] != (n, h):
            return None
        found.append({"table": t, "sqliteRows": n, "pgRows": n, "before": 0, "hashMatch": True, "hash": h, "seconds": 0})
    return found


def server_rejection(e: Exception, lite: sqlite3.Connection, select: str, target: str, key_of) -> Exception:
    """PostgreSQL refused a value (a range it checks, a type passed through): name the row by its key."""
    # psycopg puts the server's fields in e.diag; asyncpg's PostgresError carries them itself.
    diag = getattr(e, "diag", None)
    from_server = diag is not None or (bool(getattr(e, "sqlstate", None)) and hasattr(e, "message"))
    context = (getattr(diag, "context", None) if diag is not None else getattr(e, "context", None)) or ""
    primary = getattr(diag, "message_primary", None) if diag is not None else getattr(e, "message", None)
    message = (primary or str(e)).strip()
    m = re.search(r"COPY [^,]+, line (\d+)(?:, column ([^:]+))?", context)
    if not m:
        return ImportFailure("server", f"PostgreSQL refused the rows of {target}: {message}") if from_server else e
    n = int(m.group(1))
    raw = lite.execute(f"{select} LIMIT 1 OFFSET {n - 1}").fetchone()
    where = key_of(raw, n) if raw else f"row {n}"
    column = f", column {m.group(2)}" if m.group(2) else ""
    if m.group(2) and _SECRET_COLUMN.search(m.group(2)):
        message = message.split(":")[0] + ": ****"
    # Class 23 (a duplicate key, a NOT NULL): the row clashes with the schema or rows already there.
    kind = "conflict" if str(getattr(e, "sqlstate", "") or "").startswith("23") else "bad-value"
    return ImportFailure(kind, f"{target} ({where}){column}: PostgreSQL says {message}", table=target, key=where)


def run_import(req: dict, url: str, emit: Emitter) -> dict:
    lite = read_sqlite(req["sqlite"])
    db = connect(url)
    try:
        # Naive datetimes are sent as UTC; the zone and DateStyle also fix the text the hash reads.
        db.query("SET LOCAL TimeZone = 'UTC'")
        db.query("SET LOCAL DateStyle = 'ISO, YMD'")
        pg_cols, constraints = read_catalog(db)
        plan = match_tables(sqlite_columns(lite), pg_cols, req.get("tables"))
        targets = plan["tables"]
        fks = [c for c in constraints if c["type"] == "f"]
        pks = {c["child"]: c["columns"] for c in constraints if c["type"] == "p"}
        order, deferred = order_tables(list(targets), fks)
        totals = {t: lite.execute(f"SELECT count(*) FROM {quote_ident(targets[t]['sqlite'])}").fetchone()[0] for t in order}
        emit("plan", tables=[{"table": t, "rows": totals[t]} for t in order], notes=plan["notes"])
        if not order:
            return {"tables": [], "notes": plan["notes"], "imported": 0}
        # Nobody writes these tables until the copy commits: the emptiness check and setval stay true.
        db.query(f"LOCK TABLE {', '.join(quote_ident(t) for t in order)} IN SHARE ROW EXCLUSIVE MODE")
        probe = " UNION ALL ".join(f"SELECT {quote_literal(t)}, (SELECT count(*) FROM {quote_ident(t)})" for t in order)
        existing = {t: n for t, n in db.query(probe)}
        # Only a table that would get rows is refused; one the file has no rows for is left as it is.
        nonempty = {t: n for t, n in existing.items() if n and totals[t]}
        # Checked before the refusal and before appending: the rows may be this very file's.
        found = find_finished_import(db, lite, targets, order, totals, existing, pks) if any(existing.values()) else None
        if found:
            return {"alreadyImported": True, "tables": found, "notes": plan["notes"], "imported": 0, "deferred": []}
        if nonempty and not req.get("intoNonempty"):
            raise ImportFailure(
                "nonempty",
                "PostgreSQL already has rows in " + ", ".join(f"{t} ({n})" for t, n in nonempty.items()),
                rows=nonempty,
            )
        # Foreign keys: the app role owns its tables (it ran the migration), so inside the one
        # transaction it drops the foreign keys of the tables it fills and re-creates them after
        # the copy, as pgloader does outside a transaction: one set-based check per key instead
        # of a trigger per row, and any order or cycle works. A rollback restores them.
        # session_replication_role is no option: it needs a superuser, which the app role is not.
        # Where the role does not own a table, parents go first and a cycle's keys are deferred.
        children = [fk for fk in fks if fk["child"] in targets]
        recreate = children if children and all(fk["owned"] for fk in children) else []
        for fk in recreate:
            db.query(f"ALTER TABLE {quote_ident(fk['child'])} DROP CONSTRAINT {quote_ident(fk['name'])}")
        altered = []
        for fk in [] if recreate else deferred:
            name = quote_ident(fk["name"])
            if not fk["deferrable"]:
                db.query(f"ALTER TABLE {quote_ident(fk['child'])} ALTER CONSTRAINT {name} DEFERRABLE INITIALLY DEFERRED")
                altered.append(fk)
            db.query(f"SET CONSTRAINTS {name} DEFERRED")
        # Appending: the content hash of the rows already there, so the new rows can be checked too.
        with_rows = [t for t in order if existing[t]]
        before = table_hashes(db, targets, with_rows) if with_rows else {}
        results = []
        batch = int(req.get("batch") or 2000)
        for t in order:
            t0 = time.monotonic()
            n, h = copy_table(db, lite, t, targets[t], pks.get(t, []), totals[t], emit, batch)
            results.append({"table": t, "sqliteRows": n, "hash": h, "seconds": round(time.monotonic() - t0, 3), "before": existing.get(t, 0)})
        if recreate:
            # Fresh statistics first: without them the planner may check a key with a nested
            # loop over tables it believes empty (minutes instead of a second for 1M rows).
            db.query(f"ANALYZE {', '.join(quote_ident(t) for t in order)}")
        for fk in recreate:
            try:
                db.query(f"ALTER TABLE {quote_ident(fk['child'])} ADD CONSTRAINT {quote_ident(fk['name'])} {fk['definition']}")
            except Exception as e:
                detail = getattr(getattr(e, "diag", None), "message_detail", None) or str(e)
                raise ImportFailure("constraint", f"the rows of {fk['child']} break its foreign key {fk['name']} ({detail})", table=fk["child"]) from None
        if deferred and not recreate:
            db.query("SET CONSTRAINTS ALL IMMEDIATE")
            for fk in altered:
                db.query(f"ALTER TABLE {quote_ident(fk['child'])} ALTER CONSTRAINT {quote_ident(fk['name'])} NOT DEFERRABLE")
        t0 = time.monotonic()
        verify(db, targets, results, before)
        verify_s = time.monotonic() - t0
        set_sequences(db, pg_cols, order)
        db.commit()
        return {"verifySeconds": round(verify_s, 3), "peakRssKiB": peak_rss_kib(), "tables": results, "notes": plan["notes"], "imported": sum(r["sqliteRows"] for r in results), "deferred": [] if recreate else [fk["name"] for fk in deferred], "foreignKeysChecked": len(recreate), "timestamptzColumns": [f"{t}.{c['column']}" for t in order for _, c in targets[t]["pairs"] if c["typname"] == "timestamptz"]}
    finally:
        db.close()
        lite.close()


def table_hashes(db, targets: dict, tables: list[str]) -> dict[str, tuple[int, int]]:
    """(rows, sum of row hashes) per table, computed by PostgreSQL in one query."""
    queries = []
    for t in tables:
        exprs = [canonical_for(c)[1] for _, c in targets[t]["pairs"]]
        queries.append(f"SELECT {quote_literal(t)} AS t, n, h FROM ({sql_table_hash(t, exprs)}) s")
    return {t: (int(n), int(h)) for t, n, h in db.query(" UNION ALL ".join(queries))}


def verify(db, targets: dict, results: list[dict], before: dict[str, tuple[int, int]]) -> None:
    """Rows and content hash per table, inside the transaction: a mismatch commits nothing.
    The hash is a sum, so when appending, what the copy added is the difference."""
    got = table_hashes(db, targets, [r["table"] for r in results])
    bad = []
    for r in results:
        n0, h0 = before.get(r["table"], (0, 0))
        n, h = got[r["table"]]
        r["pgRows"] = n - n0
        r["hashMatch"] = h - h0 == r["hash"]
        if n - n0 != r["sqliteRows"] or not r["hashMatch"]:
            bad.append(f"{r['table']}: SQLite {r['sqliteRows']} rows, PostgreSQL {n - n0}{'' if r['hashMatch'] else ', content hash differs'}")
    if bad:
        raise ImportFailure("verify", "verification failed, nothing committed: " + "; ".join(bad), tables=results)


def set_sequences(db, pg_cols: dict[str, list[dict]], tables: list[str]) -> None:
    """setval past the largest key, so the app's next insert does not collide."""
    exprs = []
    for t in tables:
        for c in pg_cols[t]:
            if c.get("sequence"):
                mx = f"(SELECT max({quote_ident(c['column'])}) FROM {quote_ident(t)})"
                exprs.append(f"setval({quote_literal(c['sequence'])}, coalesce({mx}, 1), {mx} IS NOT NULL)")
    if exprs:
        db.query("SELECT " + ", ".join(exprs))


def peak_rss_kib() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cli() -> None:
    emit = Emitter()
    req = json.load(sys.stdin)
    url = os.environ.get("PGSETUP_IMPORT_URL", "")
    try:
        out = run_import(req, url, emit)
    except ImportFailure as e:
        emit("error", kind=e.kind, detail=e.detail, **e.extra)
        sys.exit(FAILED)
    emit("done", **out)
