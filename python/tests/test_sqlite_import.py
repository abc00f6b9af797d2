"""The SQLite import's conversions, normalised values and plan, without a server.

The copy itself (COPY, the hash computed by PostgreSQL, setval, one transaction) needs a server
and the driver: test/e2e/sqlite-import*.test.ts cover it with real clusters."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from decimal import Decimal

import pytest

from pgsetup.sqlite_import import (
    BadValue,
    ImportFailure,
    TableStream,
    canonical_for,
    converter_for,
    jsonb_canonical,
    match_tables,
    order_tables,
    pair_for,
    read_sqlite,
    row_hash,
    row_text,
    show_value,
    sqlite_columns,
)

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


def test_jsonb_canonical_text_is_what_postgresql_prints():
    # jsonb orders keys by length then bytes, keeps numeric scale and prints ", " and ": ".
    assert jsonb_canonical('{"zz":1,"a":2.50,"b":[true,null,"é\\n"]}') == '{"a": 2.50, "b": [true, null, "é\\n"], "zz": 1}'
    assert jsonb_canonical('{"a": 1, "a": 2}') == '{"a": 2}'
    assert jsonb_canonical("1e2") == "100"


def test_normalised_values_are_unambiguous():
    # A NULL, an empty string and a comma inside a value give different row texts.
    assert len({row_text([None, "x"]), row_text(["", "x"]), row_text([",", ""]), row_text(["", ","])}) == 4
    to_text, sql = canonical_for({"typname": "timestamptz", "column": "at"})
    assert to_text(dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == "2024-01-01 00:00:00+00"
    assert to_text(dt.datetime(2024, 1, 1, 2, 0, 0, 120000, tzinfo=UTC)) == "2024-01-01 02:00:00.12+00"
    assert sql == '"at"::text'
    to_text, _ = canonical_for({"typname": "float8", "column": "f"})
    assert to_text(0.1) == "3fb999999999999a"


def test_secrets_are_masked_in_error_values():
    assert show_value("password_hash", "s3cret") == "****"
    assert show_value("title", "x" * 100).endswith("...")


def test_parents_come_before_children_and_a_cycle_defers_only_its_own_keys():
    fks = [
        {"name": "posts_user_fk", "child": "posts", "parent": "users", "deferrable": False},
        {"name": "cat_parent_fk", "child": "categories", "parent": "categories", "deferrable": False},
        {"name": "dept_manager_fk", "child": "departments", "parent": "employees", "deferrable": False},
        {"name": "emp_dept_fk", "child": "employees", "parent": "departments", "deferrable": False},
    ]
    order, deferred = order_tables(["posts", "users", "categories", "departments", "employees"], fks)
    assert order.index("users") < order.index("posts")
    assert [d["name"] for d in deferred] == ["dept_manager_fk"]  # self-references need nothing
    assert order.index("departments") < order.index("employees")


def test_the_plan_lists_what_is_not_imported_and_refuses_a_required_column_sqlite_lacks(tmp_path):
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, legacy TEXT); CREATE TABLE stats (n INT);")
    con.close()
    lite = sqlite3.connect(db)
    pg = {
        "users": [{"column": "id", "typname": "int4", "notnull": True, "hasdefault": True}, {"column": "name", "typname": "varchar", "notnull": False}, {"column": "bio", "typname": "text", "notnull": False}],
        "posts": [{"column": "id", "typname": "int4", "notnull": True, "hasdefault": True}],
        "alembic_version": [{"column": "version_num", "typname": "varchar", "notnull": True}],
    }
    assert sorted(sqlite_columns(lite)) == ["stats", "users"]  # sqlite_sequence is SQLite's own
    plan = match_tables(sqlite_columns(lite), pg, None)
    assert [c for c, _ in plan["tables"]["users"]["pairs"]] == ["id", "name"]
    assert "column users.legacy has no column in PostgreSQL: not imported" in plan["notes"]
    assert "SQLite table stats has no table in PostgreSQL: not imported" in plan["notes"]
    assert "column users.bio is not in SQLite: filled by its default" in plan["notes"]
    assert "table posts has no SQLite table: left as it is" in plan["notes"]
    pg["users"].append({"column": "email", "typname": "text", "notnull": True, "hasdefault": False})
    with pytest.raises(ImportFailure, match="users.email is NOT NULL"):
        match_tables(sqlite_columns(lite), pg, None)
    assert json.dumps(plan["notes"])  # plain data, printed by the CLI


@pytest.mark.parametrize(
    "col, values",
    [
        ({"typname": "timestamptz"}, ["2024-05-01 09:30:00.123456", "2024-05-01 09:30:00.100000", "2024-05-01 09:30:00.000000", "2024-05-01 09:30:00", "2024-05-01T09:30:00+02:00"]),
        ({"typname": "timestamp"}, ["2024-05-01 09:30:00.000001", "2024-05-01T09:30:00Z"]),
        ({"typname": "bool"}, [0, 1, "true"]),
        ({"typname": "int4"}, [0, -5, 2**31 - 1, "12"]),
        ({"typname": "varchar", "maxlen": 10}, ["", "ünïcode", 42]),
        ({"typname": "numeric", "precision": 12, "scale": 2}, [19.99, 19.9, 1234.0, 0.1, 1e-05, -0.5, 12.345, 5, "7.125"]),
        ({"typname": "numeric", "precision": 10, "scale": 0}, [3.0, 7]),
    ],
)
def test_the_fast_path_normalises_exactly_as_the_general_conversion(col, values):
    col = {"column": "c", **col}
    fast, general = pair_for(col, True), pair_for(col, False)
    for v in values:
        assert fast(v)[1] == general(v)[1], v


def test_the_fast_path_sends_postgresql_text_forms():
    col = {"column": "c", "typname": "timestamptz"}
    assert pair_for(col, True)("2024-05-01 09:30:00.123456") == ("2024-05-01 09:30:00.123456+00", "2024-05-01 09:30:00.123456+00")
    assert pair_for(col, True)("2024-05-01 09:30:00.500000")[1] == "2024-05-01 09:30:00.5+00"
    assert pair_for(col, True)("2024-05-01 09:30:00.000000")[1] == "2024-05-01 09:30:00+00"
    assert pair_for({"column": "c", "typname": "numeric", "precision": 12, "scale": 2}, True)(19.9) == ("19.9", "19.90")


def _posts_db(path, rows):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, published BOOLEAN, date_posted DATETIME)")
    con.executemany("INSERT INTO posts VALUES (?, ?, ?, ?)", rows)
    con.commit()
    return con


POSTS = {
    "posts": [
        {"column": "id", "typname": "int4", "notnull": True, "hasdefault": True},
        {"column": "title", "typname": "varchar", "maxlen": 100, "notnull": False},
        {"column": "published", "typname": "bool", "notnull": False},
        {"column": "date_posted", "typname": "timestamptz", "notnull": False},
    ]
}
ROWS = [(1, "Hello", 1, "2024-05-01 09:30:00.123456"), (2, None, 0, "2024-05-02 10:00:00.000000"), (3, "ünïcode ✓", None, None)]


@pytest.mark.parametrize("text_mode", [True, False])
def test_the_sqlite_side_digest_is_the_count_and_the_order_independent_sum_of_row_hashes(tmp_path, text_mode):
    # What find_finished_import compares with PostgreSQL's sum: the same rows in another order give
    # the same digest (either driver's conversion path), one changed value gives another.
    a = _posts_db(tmp_path / "a.db", ROWS)
    b = _posts_db(tmp_path / "b.db", list(reversed(ROWS)))
    c = _posts_db(tmp_path / "c.db", ROWS[:2] + [(3, "unicode", None, None)])
    spec = match_tables(sqlite_columns(a), POSTS, None)["tables"]["posts"]
    digest = lambda con: TableStream(con, "posts", spec, ["id"], text_mode).digest(batch=2)  # noqa: E731
    expected = sum(
        row_hash(row_text([canonical_for(col)[0](converter_for(col)(v)) if v is not None else None for v, col in zip(row, POSTS["posts"])]))
        for row in ROWS
    )
    assert digest(a) == (3, expected)
    assert digest(b) == digest(a)
    assert digest(c)[0] == 3 and digest(c)[1] != expected


def test_the_stream_names_the_row_and_column_of_a_value_that_cannot_convert(tmp_path):
    con = _posts_db(tmp_path / "bad.db", ROWS + [(4, "x", 7, None)])
    spec = match_tables(sqlite_columns(con), POSTS, None)["tables"]["posts"]
    with pytest.raises(ImportFailure, match=r"posts \(id=4\), column published: 7 is not a boolean"):
        TableStream(con, "posts", spec, ["id"], True).digest()


def test_a_file_that_is_not_sqlite_is_refused_by_name_and_left_unchanged(tmp_path):
    fake = tmp_path / "shop.db"
    fake.write_bytes(b"SQLite format 3\x00" + b"not really" * 50)
    before = fake.read_bytes()
    with pytest.raises(ImportFailure, match=r"shop\.db cannot be read as a SQLite database") as e:
        read_sqlite(str(fake))
    assert e.value.kind == "not-sqlite"
    assert fake.read_bytes() == before
    _posts_db(tmp_path / "a.db", ROWS).close()
    assert read_sqlite(str(tmp_path / "a.db")).execute("SELECT count(*) FROM posts").fetchone() == (3,)
