"""How each target column's values travel in COPY's text format, and how both sides spell them
for the content hash.

For every column there is one PostgreSQL expression (`Codec.sql`) that turns a stored value into
its hash text, and a Python side that produces the same text from the SQLite value. The text sent
in the COPY stream is, wherever possible, that very hash text, so that one string per value does
both jobs. Two ways to get there:

- `fast(values)`: one batch of a column's non-NULL values at once, with C-level operations only
  (map, join, translate, set). It takes the shapes SQLAlchemy's SQLite dialect writes (integers,
  0/1 booleans, `YYYY-MM-DD HH:MM:SS.ffffff` datetimes, REAL numerics that fit the scale, text)
  and returns None for a batch it cannot take whole, never a guess.
- `slow(value)`: one value through importer/convert.py (the general conversion, which raises
  BadValue with a reason), then spelled as the expression spells it.

Ranges, lengths and calendar validity are PostgreSQL's to check on input in the fast path: a value
it refuses stops the COPY with the line number, which names the row (importer/run.py).
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from .convert import UTC, BadValue, converter_for
from .plan import quote_ident

# COPY text format: these four need a backslash escape; a NULL is \N.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
_DIGITS = str.maketrans("", "", "0123456789")
_HEX = str.maketrans("", "", "0123456789abcdef")
_INT = {int}
_INT_FLOAT = {int, float}
_STR = {str}

# A batch of non-NULL values -> (COPY texts, hash texts), or None when the batch needs the general path.
Fast = Callable[[list], Any]


@dataclass(frozen=True)
class Codec:
    """One target column: `sql` spells a stored value (never NULL) as its hash text; `fast` and
    `slow` give (COPY text before escaping, hash text) from SQLite values. `texty` values may hold
    backslashes, so their hash text doubles them (told apart from the NULL marker \\N);
    `plain` values never hold a character COPY must escape."""

    sql: str
    slow: Callable[[Any], tuple[str, str]]
    fast: Fast | None = None
    texty: bool = False
    plain: bool = True


def _same(out: list) -> tuple[list, list]:
    return out, out


def _shape(values: list, width: int, skeleton: str) -> bool:
    """Every value is `width` characters and, with its digits taken out, reads `skeleton`."""
    joined = "\n".join(values) + "\n"
    return len(joined) == (width + 1) * len(values) and joined.translate(_DIGITS) == (skeleton + "\n") * len(values)


# ---------------------------------------------------------------- integers and booleans


def _int_fast(values: list) -> tuple[list, list] | None:
    return _same(list(map(str, values))) if set(map(type, values)) <= _INT else None


def _bool_fast(values: list) -> tuple[list, list] | None:
    # sqlite3 gives 0/1 as int; PostgreSQL reads '0'/'1' as booleans.
    if set(map(type, values)) <= _INT and set(values) <= {0, 1}:
        return _same(list(map(str, values)))
    return None


# ---------------------------------------------------------------- numeric and floats


def numeric_text(d: Decimal) -> str:
    """What PostgreSQL prints for a numeric: plain digits at the value's scale, no negative zero."""
    if d.is_nan():
        return "NaN"
    return format(d.copy_abs() if d.is_zero() else d, "f")


def _numeric_fast(scale: int | None) -> Fast:
    if scale is None:

        def unscaled(values: list) -> tuple[list, list] | None:
            # A REAL's shortest repr is the decimal the app wrote; PostgreSQL keeps its digits.
            if not set(map(type, values)) <= _INT_FLOAT:
                return None
            out = list(map(repr, values))
            joined = "\n".join(out)
            if "e" in joined or "n" in joined or "-0.0" in out:
                return None
            return _same(out)

        return unscaled
    spell = f"%.{scale}f".__mod__
    negative_zero = "-0" + ("." + "0" * scale if scale else "")

    def scaled(values: list) -> tuple[list, list] | None:
        if not set(map(type, values)) <= _INT_FLOAT:
            return None
        out = list(map(spell, values))
        # Only when no digit is lost: a value with more decimals than the scale goes the general
        # way, which rounds its repr half away from zero as PostgreSQL does.
        if tuple(map(float, out)) != tuple(values) or negative_zero in out or "inf" in out or "-inf" in out:
            return None
        return _same(out)

    return scaled


def _float_fast(typname: str) -> Fast:
    code = "f" if typname == "float4" else "d"
    width = 8 if code == "f" else 16

    def fast(values: list) -> tuple[list, list] | None:
        if typname == "float4" or not set(map(type, values)) <= _INT_FLOAT:
            return None
        sent = list(map(repr, values))
        if "n" in "".join(sent):  # inf, nan
            return None
        packed = struct.pack(f">{len(values)}{code}", *values).hex()
        return sent, [packed[i : i + width] for i in range(0, len(packed), width)]

    return fast


def _float_slow(typname: str, convert: Callable[[Any], Any]) -> Callable[[Any], tuple[str, str]]:
    code = ">f" if typname == "float4" else ">d"

    def slow(value: Any) -> tuple[str, str]:
        v = convert(value)
        try:
            bits = struct.pack(code, v).hex()
        except (OverflowError, struct.error):
            raise BadValue("out of range for real") from None
        if v != v:
            return "NaN", bits
        if v in (float("inf"), float("-inf")):
            return ("Infinity" if v > 0 else "-Infinity"), bits
        return repr(v), bits

    return slow


# ---------------------------------------------------------------- date and time


def timestamp_text(v: dt.datetime) -> str:
    """`to_char(value, 'YYYY-MM-DD HH24:MI:SS.US')` in a session whose TimeZone is UTC."""
    if v.tzinfo is not None:
        v = v.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"


def _timestamp_fast(values: list) -> tuple[list, list] | None:
    # SQLAlchemy's SQLite format, and SQLite's own CURRENT_TIMESTAMP (server_default=func.now()).
    if not set(map(type, values)) <= _STR:
        return None
    if _shape(values, 26, "-- ::."):
        return _same(values)
    if _shape(values, 19, "-- ::"):
        return _same(list(map("%s.000000".__mod__, values)))
    return None


def _time_text(v: dt.time) -> str:
    frac = f".{v.microsecond:06d}".rstrip("0") if v.microsecond else ""
    return f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}{frac}"


def _date_fast(values: list) -> tuple[list, list] | None:
    return _same(values) if set(map(type, values)) <= _STR and _shape(values, 10, "--") else None


def _time_fast(values: list) -> tuple[list, list] | None:
    return _same(values) if set(map(type, values)) <= _STR and _shape(values, 8, "::") else None


# ---------------------------------------------------------------- text, JSON, enums, UUIDs, bytes


def _text_fast(values: list) -> tuple[list, list] | None:
    return _same(values) if set(map(type, values)) <= _STR else None


def _enum_fast(labels: list[str]) -> Fast:
    allowed = set(labels)

    def fast(values: list) -> tuple[list, list] | None:
        return _same(values) if set(map(type, values)) <= _STR and set(values) <= allowed else None

    return fast


def _uuid_fast(values: list) -> tuple[list, list] | None:
    if not set(map(type, values)) <= _STR:
        return None
    joined = "\n".join(values) + "\n"
    if joined != joined.lower():
        return None
    n = len(values)
    if len(joined) == 37 * n and joined.translate(_HEX) == "----\n" * n:
        return _same(values)
    if len(joined) == 33 * n and joined.translate(_HEX) == "\n" * n:
        # SQLAlchemy's Uuid on SQLite: CHAR(32) without dashes; PostgreSQL prints the dashes.
        return values, [f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}" for v in values]
    return None


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


# ---------------------------------------------------------------- one codec per target column


def _pair(convert: Callable[[Any], Any], spell: Callable[[Any], str], hashed: Callable[[Any], str] | None = None) -> Callable[[Any], tuple[str, str]]:
    def slow(value: Any) -> tuple[str, str]:
        v = convert(value)
        sent = spell(v)
        return sent, (hashed(v) if hashed else sent)

    return slow


def codec_for(col: dict) -> Codec:
    """The codec of one target column (its catalog entry: typname, maxlen, precision, scale, labels)."""
    t = col["typname"]
    q = quote_ident(col["column"])
    convert = converter_for(col)
    if col.get("labels") is not None:
        return Codec(f"{q}::text", _pair(convert, str), _enum_fast(col["labels"]), texty=True, plain=False)
    if t == "bool":
        return Codec(f"{q}::int::text", _pair(convert, lambda v: "1" if v else "0"), _bool_fast)
    if t in ("int2", "int4", "int8"):
        return Codec(f"{q}::text", _pair(convert, str), _int_fast)
    if t == "numeric":
        return Codec(f"{q}::text", _pair(convert, numeric_text), _numeric_fast(col.get("scale")))
    if t in ("float4", "float8"):
        return Codec(f"encode({t}send({q}), 'hex')", _float_slow(t, convert), _float_fast(t))
    if t in ("timestamptz", "timestamp"):
        return Codec(f"to_char({q}, 'YYYY-MM-DD HH24:MI:SS.US')", _pair(convert, timestamp_text), _timestamp_fast)
    if t == "date":
        return Codec(f"{q}::text", _pair(convert, lambda v: v.isoformat()), _date_fast)
    if t == "time":
        return Codec(f"{q}::text", _pair(convert, _time_text), _time_fast)
    if t == "uuid":
        return Codec(f"{q}::text", _pair(convert, str), _uuid_fast)
    if t == "bytea":
        return Codec(f"encode({q}, 'hex')", _pair(convert, lambda v: "\\x" + v.hex(), bytes.hex), plain=False)
    if t in ("text", "varchar", "citext", "name", "json"):
        return Codec(f"{q}::text", _pair(convert, str), _text_fast, texty=True, plain=False)
    if t == "bpchar":
        # char(n) pads with spaces; ::text drops trailing ones.
        return Codec(f"{q}::text", _pair(convert, str, lambda v: v.rstrip(" ")), texty=True, plain=False)
    if t == "jsonb":
        return Codec(f"{q}::text", _pair(convert, str, jsonb_canonical), texty=True, plain=False)
    return Codec(f"{q}::text", _pair(convert, str), texty=True, plain=False)


def hash_sql(codec: Codec) -> str:
    """The column's hash text in PostgreSQL, NULL spelt \\N as in the COPY stream."""
    expr = f"replace({codec.sql}, '\\', '\\\\')" if codec.texty else codec.sql
    return f"coalesce({expr}, '\\N')"
