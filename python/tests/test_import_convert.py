"""The SQLite import's conversions of one value (importer/convert.py), without a server."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from pgsetup.importer.convert import BadValue, converter_for

UTC = dt.timezone.utc


def conv(typname: str, value, **col):
    return converter_for({"typname": typname, "column": "c", **col})(value)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-01 09:30:00.123456", dt.datetime(2024, 5, 1, 9, 30, 0, 123456, UTC)),  # SQLAlchemy's SQLite format
        ("2024-05-01T09:30:00", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01 09:30:00+00:00", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01T11:30:00.5+02:00", dt.datetime(2024, 5, 1, 9, 30, 0, 500000, UTC)),
        ("2024-05-01 09:30:00Z", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01 09:30", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=UTC)),
    ],
)
def test_timestamptz_reads_every_sqlite_datetime_shape_as_the_same_instant(text, expected):
    got = conv("timestamptz", text)
    assert got == expected and got.tzinfo is not None


def test_naive_datetimes_are_utc_for_timestamptz_and_offsets_become_utc_for_timestamp():
    assert conv("timestamptz", "2024-01-01 00:00:00").utcoffset() == dt.timedelta(0)
    assert conv("timestamp", "2024-01-01T02:00:00+02:00") == dt.datetime(2024, 1, 1, 0, 0)
    assert conv("timestamp", "2024-01-01 02:00:00.000001") == dt.datetime(2024, 1, 1, 2, 0, 0, 1)


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01 00:00:00", "2024-02-30", 1714555800, b"\x00"])
def test_a_value_that_is_no_datetime_is_a_bad_value(bad):
    with pytest.raises(BadValue):
        conv("timestamptz", bad)


def test_booleans_come_from_0_and_1_and_nothing_else():
    assert conv("bool", 1) is True and conv("bool", 0) is False and conv("bool", "true") is True
    for bad in (7, -1, "maybe", 0.5):
        with pytest.raises(BadValue):
            conv("bool", bad)


def test_numeric_from_real_or_text_keeps_the_decimal_digits_and_rounds_like_postgresql():
    assert conv("numeric", 19.99, precision=10, scale=2) == Decimal("19.99")  # not 19.98999...
    assert conv("numeric", 0.1) == Decimal("0.1")
    assert conv("numeric", "12.345", precision=10, scale=2) == Decimal("12.35")
    assert conv("numeric", "-12.345", precision=10, scale=2) == Decimal("-12.35")
    assert conv("numeric", 10**30) == Decimal(10**30)
    with pytest.raises(BadValue):
        conv("numeric", "123456789.00", precision=10, scale=2)
    with pytest.raises(BadValue):
        conv("numeric", "twelve")


def test_integers_are_range_checked_for_the_target_column():
    assert conv("int4", "42") == 42 and conv("int8", 2**40) == 2**40 and conv("int2", 3.0) == 3
    for typ, bad in (("int4", 2**31), ("int2", 40000), ("int4", 1.5), ("int4", "4x")):
        with pytest.raises(BadValue):
            conv(typ, bad)


def test_json_text_is_validated_and_kept_as_written():
    text = '{"b": 1, "a": [1.50, null]}'
    assert conv("json", text) == text
    assert conv("jsonb", "null") == "null"
    with pytest.raises(BadValue):
        conv("json", "{not json")
    with pytest.raises(BadValue):
        conv("jsonb", '"nul \\u0000"')


def test_uuids_from_dashed_or_plain_text_and_from_16_byte_blobs():
    u = uuid.UUID("6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f")
    assert conv("uuid", str(u)) == u
    assert conv("uuid", u.hex) == u  # SQLAlchemy's Uuid on SQLite: CHAR(32)
    assert conv("uuid", u.bytes) == u
    with pytest.raises(BadValue):
        conv("uuid", b"short")


def test_blobs_text_enums_dates_and_times():
    assert conv("bytea", b"\x00\xff") == b"\x00\xff"
    assert conv("varchar", 42, maxlen=5) == "42"
    with pytest.raises(BadValue):
        conv("varchar", "toolong", maxlen=5)
    with pytest.raises(BadValue):
        conv("text", "nul\x00")
    assert conv("status", "active", labels=["draft", "active"]) == "active"
    with pytest.raises(BadValue, match="draft, active"):
        conv("status", "ACTIVE", labels=["draft", "active"])
    assert conv("date", "2024-04-30") == dt.date(2024, 4, 30)
    with pytest.raises(BadValue):
        conv("date", "2024-04-30 10:00:00")
    assert conv("time", "08:15:30.500000") == dt.time(8, 15, 30, 500000)
