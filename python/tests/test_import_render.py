"""How the SQLite import renders a batch of one column (importer/render.py, importer/table.py):
the fast path agrees with the general conversion, NULLs and escapes, and a batch the fast path
cannot take whole goes the general way. Whether PostgreSQL spells the stored values the same is
test_import_pg.py's question."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from pgsetup.importer.convert import BadValue
from pgsetup.importer.render import codec_for, jsonb_canonical, timestamp_text
from pgsetup.importer.table import ColumnValueError, render_column


def codec(typname: str, **col):
    return codec_for({"typname": typname, "column": "c", **col})


FAST_CASES = [
    ({"typname": "timestamptz"}, ["2024-05-01 09:30:00.123456", "2024-05-01 09:30:00.000000", "1999-12-31 23:59:59.999999"]),
    ({"typname": "timestamptz"}, ["2024-05-01 09:30:00", "2024-05-01 00:00:00"]),  # SQLite's CURRENT_TIMESTAMP
    ({"typname": "timestamp"}, ["2024-05-01 09:30:00.000001"]),
    ({"typname": "bool"}, [0, 1, 1]),
    ({"typname": "int4"}, [0, -5, 2**31 - 1]),
    ({"typname": "int8"}, [2**62, -(2**62)]),
    ({"typname": "varchar", "maxlen": 10}, ["", "ünïcode", "a,b"]),
    ({"typname": "numeric", "precision": 12, "scale": 2}, [19.99, 19.9, 1234.0, 0.1, -0.5, 5, 1375.87]),
    ({"typname": "numeric", "precision": 10, "scale": 0}, [3.0, 7]),
    ({"typname": "numeric"}, [1.5, 0.1, 100.0, 7, 10**30]),
    ({"typname": "float8"}, [0.1, -2.5, 1e300, 3]),
    ({"typname": "date"}, ["2024-04-30"]),
    ({"typname": "time"}, ["08:15:30"]),
    ({"typname": "uuid"}, ["6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f"]),
    ({"typname": "uuid"}, ["6f1c2a4e8b3d4c5e9f601a2b3c4d5e6f"]),  # SQLAlchemy's Uuid on SQLite: CHAR(32)
    ({"typname": "status", "labels": ["draft", "active"]}, ["active", "draft"]),
    ({"typname": "json"}, ['{"b": 1, "a": [1.50, null]}', "null"]),
]


@pytest.mark.parametrize("col, values", FAST_CASES)
def test_the_fast_path_takes_sqlalchemys_shapes_and_hashes_them_as_the_general_conversion(col, values):
    c = codec(**col)
    assert c.fast is not None and c.fast(values) is not None, "the fast path should take this batch"
    _, fast_hashed = c.fast(values)
    assert fast_hashed == [c.slow(v)[1] for v in values]


@pytest.mark.parametrize(
    "col, values",
    [
        ({"typname": "timestamptz"}, ["2024-05-01 09:30:00.000000", "2024-05-01T09:30:00+02:00"]),  # one odd value
        ({"typname": "timestamptz"}, ["2024-05-01 09:30:00.1234 Z"]),  # 26 characters, another shape
        ({"typname": "bool"}, [0, 1, "true"]),
        ({"typname": "int4"}, [1, "12"]),
        ({"typname": "int4"}, [1, 1.0]),  # a REAL in an INTEGER column: '%d' would drop nothing, but str() would print 1.0
        ({"typname": "numeric", "precision": 12, "scale": 2}, [19.99, 12.345]),  # more decimals than the scale: rounded as PostgreSQL does
        ({"typname": "numeric", "precision": 12, "scale": 2}, [1.005]),
        ({"typname": "numeric", "precision": 12, "scale": 2}, [-0.0]),
        ({"typname": "numeric"}, [1e-05]),
        ({"typname": "numeric"}, [float("nan")]),
        ({"typname": "float8"}, [float("inf")]),
        ({"typname": "uuid"}, ["6F1C2A4E-8B3D-4C5E-9F60-1A2B3C4D5E6F"]),
        ({"typname": "status", "labels": ["draft", "active"]}, ["active", "ACTIVE"]),
    ],
)
def test_a_batch_the_fast_path_cannot_take_whole_is_left_to_the_general_conversion(col, values):
    c = codec(**col)
    assert c.fast is None or c.fast(values) is None


def test_the_general_conversion_spells_what_postgresql_prints():
    assert codec("numeric", precision=12, scale=2).slow(12.345) == ("12.35", "12.35")  # half away from zero, as PostgreSQL
    assert codec("numeric", precision=12, scale=2).slow(1.005) == ("1.01", "1.01")  # the repr's digits, not the binary value
    assert codec("numeric", precision=12, scale=2).slow(-0.0) == ("0.00", "0.00")
    assert codec("numeric").slow(1e-05) == ("0.00001", "0.00001")
    assert codec("numeric").slow("NaN") == ("NaN", "NaN")
    assert codec("timestamptz").slow("2024-05-01T11:30:00.5+02:00") == ("2024-05-01 09:30:00.500000",) * 2
    assert codec("timestamp").slow("2024-01-01T02:00:00+02:00")[1] == "2024-01-01 00:00:00.000000"
    assert codec("bool").slow("true") == ("1", "1")
    assert codec("float8").slow(0.1) == ("0.1", "3fb999999999999a")
    assert codec("float8").slow(float("-inf"))[0] == "-Infinity"
    assert codec("bytea").slow(b"\x00\xff") == ("\\x00ff", "00ff")
    assert codec("uuid").slow(uuid.UUID("6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f").bytes)[1] == "6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f"
    assert codec("bpchar").slow("ab  ") == ("ab  ", "ab")
    assert codec("jsonb").slow('{"zz":1,"a":2.50}') == ('{"zz":1,"a":2.50}', '{"a": 2.50, "zz": 1}')
    assert codec("time").slow("08:15:30.500000") == ("08:15:30.5", "08:15:30.5")
    assert timestamp_text(dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == "2024-01-01 00:00:00.000000"


def test_a_column_with_nulls_sends_and_hashes_them_as_backslash_n():
    sent, hashed = render_column(codec("int4"), [1, None, 3])
    assert sent == ["1", "\\N", "3"] and hashed is sent
    sent, hashed = render_column(codec("uuid"), [None, "6f1c2a4e8b3d4c5e9f601a2b3c4d5e6f"])
    assert sent == ["\\N", "6f1c2a4e8b3d4c5e9f601a2b3c4d5e6f"] and hashed == ["\\N", "6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f"]
    assert render_column(codec("text"), [None, None]) == (["\\N", "\\N"], ["\\N", "\\N"])


def test_text_is_escaped_for_copy_and_a_backslash_is_doubled_in_the_hash_so_the_text_backslash_n_is_no_null():
    sent, hashed = render_column(codec("text"), ["plain", "tab\there", "line\nbreak", "back\\slash", "\\N", None])
    assert sent == ["plain", "tab\\there", "line\\nbreak", "back\\\\slash", "\\\\N", "\\N"]
    # The hash texts: PostgreSQL's replace(value, '\', '\\'), NULL as \N.
    assert hashed == ["plain", "tab\there", "line\nbreak", "back\\\\slash", "\\\\N", "\\N"]
    sent, hashed = render_column(codec("bytea"), [b"\x01"])
    assert sent == ["\\\\x01"] and hashed == ["01"]


def test_one_odd_value_sends_the_whole_batch_the_general_way_and_the_hash_is_the_same_either_way():
    c = codec("timestamptz")
    usual = ["2024-05-01 09:30:00.000000", "2024-05-02 10:00:00.250000"]
    _, fast_hash = render_column(c, usual)
    sent, hashed = render_column(c, usual + ["2024-05-03T12:00:00+02:00"])
    assert hashed[:2] == fast_hash
    assert sent[2] == hashed[2] == "2024-05-03 10:00:00.000000"


def test_a_value_the_column_cannot_hold_is_reported_with_its_place_in_the_batch():
    with pytest.raises(ColumnValueError) as e:
        render_column(codec("bool"), [1, None, 0, 7])
    assert e.value.index == 3 and e.value.value == 7 and isinstance(e.value.reason, BadValue)


def test_jsonb_canonical_text_is_what_postgresql_prints():
    # jsonb orders keys by length then bytes, keeps numeric scale and prints ", " and ": ".
    assert jsonb_canonical('{"zz":1,"a":2.50,"b":[true,null,"é\\n"]}') == '{"a": 2.50, "b": [true, null, "é\\n"], "zz": 1}'
    assert jsonb_canonical('{"a": 1, "a": 2}') == '{"a": 2}'
    assert jsonb_canonical("1e2") == "100"
