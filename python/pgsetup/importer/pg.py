"""The PostgreSQL side: the catalog of the tables at head, and the two drivers a project may
have (psycopg 3, else asyncpg), each sending the COPY stream in text format."""

from __future__ import annotations

import json
import re
from typing import Iterator

from .plan import ImportFailure, quote_ident


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
    """psycopg 3: COPY ... FROM STDIN, the text-format chunks written as they come."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)

    def query(self, sql: str) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []

    def copy(self, table: str, columns: list[str], chunks: Iterator[bytes]) -> None:
        cols = ", ".join(quote_ident(c) for c in columns)
        # The default writer blocks while the server is busy: memory stays bounded by the
        # socket's buffer, and rendering the next batch overlaps the server's work on this one.
        with self.conn.cursor() as cur, cur.copy(f"COPY {quote_ident(table)} ({cols}) FROM STDIN") as cp:
            for data in chunks:
                cp.write(data)

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class Asyncpg:
    """asyncpg (`--driver asyncpg` projects): copy_to_table with the same text-format chunks, on a private loop."""

    def __init__(self, url: str):
        import asyncio

        import asyncpg

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(url))
        self.tx = self.conn.transaction()
        self.loop.run_until_complete(self.tx.start())

    def query(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.loop.run_until_complete(self.conn.fetch(sql))]

    def copy(self, table: str, columns: list[str], chunks: Iterator[bytes]) -> None:
        async def source():
            for data in chunks:
                yield data

        self.loop.run_until_complete(self.conn.copy_to_table(table, source=source(), columns=columns, format="text"))

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
