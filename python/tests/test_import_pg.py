"""The SQLite import against a real PostgreSQL: for every column type it converts, the text it
sends is read by PostgreSQL's COPY, and the hash text it computes from the SQLite value is what
PostgreSQL's own expression (render.hash_sql) makes of the stored value. The content check of
a real import rests on exactly this agreement.

Needs initdb/pg_ctl and psycopg 3 in the interpreter running the tests (conftest.py's pg_server)."""

from __future__ import annotations

import uuid

import pytest

from pgsetup.importer.render import codec_for, hash_sql
from pgsetup.importer.table import render_column


@pytest.fixture(scope="module")
def pg(pg_server):
    import psycopg

    conn = psycopg.connect(pg_server.dsn("postgres"), autocommit=True)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("DROP TYPE IF EXISTS mood")
    conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    yield conn
    conn.execute("DROP TABLE IF EXISTS t")
    conn.execute("DROP TYPE mood")
    conn.close()


U = uuid.UUID("6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f")

CASES = [
    ("timestamptz", {"typname": "timestamptz"}, ["2024-05-01 09:30:00.123456", "2024-05-01 09:30:00", "2024-05-01T11:30:00.5+02:00", "2024-05-01 09:30:00Z", "2024-05-01", "0099-01-01 00:00:00.000000", None]),
    ("timestamp", {"typname": "timestamp"}, ["2024-05-01 09:30:00.000001", "2024-01-01T02:00:00+02:00", "2024-05-01 09:30", None]),
    ("date", {"typname": "date"}, ["2024-04-30", "2024-04-30 00:00:00", None]),
    ("time", {"typname": "time"}, ["08:15:30", "08:15:30.500000", "23:59", None]),
    ("boolean", {"typname": "bool"}, [0, 1, "true", "f", None]),
    ("smallint", {"typname": "int2"}, [-32768, 32767, "12", 3.0, None]),
    ("bigint", {"typname": "int8"}, [2**63 - 1, -(2**63), None]),
    ("numeric(12,2)", {"typname": "numeric", "precision": 12, "scale": 2}, [19.99, 1.005, 12.345, -12.345, -0.0, 5, "7.125", 1e-05, 0.1 + 0.2, 1375.87, None]),
    ("numeric", {"typname": "numeric"}, [1.5, 1e-05, 100.0, 10**30, "NaN", "1.50", -0.0, 7, 1e20, None]),
    ("double precision", {"typname": "float8"}, [0.1, 1e300, -2.5, 3, float("inf"), float("nan"), 5e-324, None]),
    ("real", {"typname": "float4"}, [0.1, 1.5, 3.4e38, None]),
    ("text", {"typname": "text"}, ["", "ünïcode ✓ 🐘", "\\N", "a\tb", "x\ny", "cr\rhere", "back\\slash", 'quote"s', "a,b", 42, b"bytes", None]),
    ("varchar(20)", {"typname": "varchar", "maxlen": 20}, ["short", "\\", None]),
    ("char(5)", {"typname": "bpchar", "maxlen": 5}, ["ab", "ab  ", "abcde", None]),
    ("json", {"typname": "json"}, ['{"b":1,"a":[1.50,null]}', '"\\u00e9\\n"', '  {"a": 1}  ', None]),
    ("jsonb", {"typname": "jsonb"}, ['{"zz":1,"a":2.50,"b":[true,null,"é\\n"]}', '"\\u00e9"', "[1, 2e2, -0]", '{"a": 1, "a": 2}', None]),
    ("uuid", {"typname": "uuid"}, [str(U), U.hex, str(U).upper(), U.bytes, None]),
    ("bytea", {"typname": "bytea"}, [b"\x00\xff\\", b"", "text é", None]),
    ("mood", {"typname": "mood", "labels": ["sad", "happy"]}, ["happy", "sad", None]),
]


def _roundtrip(pg, sqltype: str, col: dict, values: list) -> tuple[list[str], list[str]]:
    """COPY what render_column sends into a fresh table; return (PostgreSQL's hash texts, ours)."""
    codec = codec_for({"column": "c", **col})
    sent, hashed = render_column(codec, values)
    pg.execute("DROP TABLE IF EXISTS t")
    pg.execute(f"CREATE TABLE t (ord int, c {sqltype})")
    data = "".join(f"{i}\t{s}\n" for i, s in enumerate(sent)).encode()
    with pg.cursor() as cur, cur.copy("COPY t (ord, c) FROM STDIN") as cp:
        cp.write(data)
    got = [r[0] for r in pg.execute(f"SELECT {hash_sql(codec)} FROM t ORDER BY ord")]
    return got, hashed


@pytest.mark.parametrize("sqltype, col, values", CASES, ids=[c[0] for c in CASES])
def test_postgresql_reads_what_is_sent_and_spells_it_as_the_hash_text(pg, sqltype, col, values):
    # Each value alone (the fast path where it takes the value, else the general one) and the
    # whole batch at once (one odd value sends the batch the general way).
    for v in values:
        got, ours = _roundtrip(pg, sqltype, col, [v])
        assert got == ours, v
    got, ours = _roundtrip(pg, sqltype, col, values)
    assert got == ours


def test_the_stored_values_are_the_conversions_the_issue_names(pg):
    _roundtrip(pg, "timestamptz", {"typname": "timestamptz"}, ["2024-05-01 09:30:00.123456", "2024-05-01T11:30:00+02:00"])
    assert [str(r[0]) for r in pg.execute("SELECT extract(epoch FROM c)::numeric FROM t ORDER BY ord")] == ["1714555800.123456", "1714555800.000000"]
    _roundtrip(pg, "numeric(12,2)", {"typname": "numeric", "precision": 12, "scale": 2}, [19.99, 1.005])
    assert [str(r[0]) for r in pg.execute("SELECT c FROM t ORDER BY ord")] == ["19.99", "1.01"]
    _roundtrip(pg, "text", {"typname": "text"}, ["\\N", None])
    assert [r[0] for r in pg.execute("SELECT c FROM t ORDER BY ord")] == ["\\N", None]
