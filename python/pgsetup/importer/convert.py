"""SQLite values -> what the target PostgreSQL column holds, one value at a time (pure).

SQLite's affinity is loose: a column declared DATETIME holds text in several shapes, BOOLEAN holds
0/1, NUMERIC holds REAL or text. These converters decide by the TARGET column's type and raise
BadValue for anything it cannot hold. They are the general path; importer/render.py has the batch
fast paths for the shapes SQLAlchemy writes, which must agree with these (tests check it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

UTC = dt.timezone.utc


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
