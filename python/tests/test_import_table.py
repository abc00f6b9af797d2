"""What the SQLite import copies and in which order (importer/plan.py), and one table's COPY stream
and content hash (importer/table.py), read from real SQLite files, without a server."""

from __future__ import annotations

import json
import sqlite3

import pytest

from pgsetup.importer.plan import ImportFailure, match_tables, order_tables, read_sqlite, show_value, sqlite_columns
from pgsetup.importer.table import MOD, TableCopy, line_hash


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
ROWS = [(1, "Hello", 1, "2024-05-01 09:30:00.123456"), (2, None, 0, "2024-05-02 10:00:00.000000"), (3, "ünïcode ✓\tand a tab", None, None)]


def _table(con):
    spec = match_tables(sqlite_columns(con), POSTS, None)["tables"]["posts"]
    return TableCopy(con, "posts", spec, ["id"])


def test_the_copy_stream_is_one_text_line_per_row_in_the_cursors_order(tmp_path):
    table = _table(_posts_db(tmp_path / "a.db", ROWS))
    data = b"".join(table.chunks(batch=2)).decode()
    assert data.split("\n") == [
        "1\tHello\t1\t2024-05-01 09:30:00.123456",
        "2\t\\N\t0\t2024-05-02 10:00:00.000000",
        "3\tünïcode ✓\\tand a tab\t\\N\t\\N",
        "",
    ]
    # The hash lines: the tab inside the title is sent escaped but hashed as itself.
    expected = (
        line_hash("1\tHello\t1\t2024-05-01 09:30:00.123456")
        + line_hash("2\t\\N\t0\t2024-05-02 10:00:00.000000")
        + line_hash("3\tünïcode ✓\tand a tab\t\\N\t\\N")
    ) % MOD
    assert (table.n, table.h) == (3, expected)


def test_the_digest_is_the_count_and_an_order_independent_sum_whatever_the_batch_size(tmp_path):
    a = _table(_posts_db(tmp_path / "a.db", ROWS))
    b = _table(_posts_db(tmp_path / "b.db", list(reversed(ROWS))))
    c = _table(_posts_db(tmp_path / "c.db", ROWS[:2] + [(3, "unicode", None, None)]))
    # The same rows through the general path (one value is not SQLAlchemy's shape) hash the same.
    d = _table(_posts_db(tmp_path / "d.db", [(1, "Hello", "true", "2024-05-01T09:30:00.123456+00:00")] + ROWS[1:]))
    assert a.digest(batch=2) == a.digest(batch=5000) == b.digest(batch=1) == d.digest()
    assert c.digest()[0] == 3 and c.digest()[1] != a.digest()[1]


def test_the_stream_names_the_row_and_column_of_a_value_that_cannot_convert(tmp_path):
    table = _table(_posts_db(tmp_path / "bad.db", ROWS + [(4, "x", 7, None)]))
    with pytest.raises(ImportFailure, match=r"posts \(id=4\), column published: 7 is not a boolean") as e:
        table.digest(batch=3)
    assert e.value.extra == {"table": "posts", "key": "id=4", "column": "published"}


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
