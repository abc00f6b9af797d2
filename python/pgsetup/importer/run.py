"""Copy the rows of the app's old SQLite file into the PostgreSQL tables Alembic created.

Run by pg-setup with the project's own interpreter (python/import_sqlite.py), which has the
standard library's sqlite3 and the app's driver (psycopg 3, else asyncpg). Input (stdin, JSON):
  {"sqlite": path, "intoNonempty": bool, "tables": [model tables] | null, "batch": rows | null}
Environment: PGSETUP_IMPORT_URL, the app's URL (a secret, so never in argv).
Prints JSON lines on stdout: {"event": "plan" | "progress" | "done" | "error", ...}.

The schema is the app's: the tables at Alembic's head, read from pg_catalog in one query.
Values are converted by the TARGET column's type, not by SQLite's loose affinity. Everything
runs in ONE transaction: the copy, the verification (row count and an order-independent hash
of each row's normalised values, computed on both sides) and setval, so a failure anywhere,
or Ctrl-C, leaves PostgreSQL as it was.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .pg import connect, read_catalog
from .plan import ImportFailure, SECRET_COLUMN, match_tables, order_tables, quote_ident, quote_literal, read_sqlite, sqlite_columns
from .table import MOD, TableCopy

FAILED = 3


class Emitter:
    def __init__(self, stream=sys.stdout):
        self.stream = stream

    def __call__(self, event: str, **data: Any) -> None:
        self.stream.write(json.dumps({"event": event, **data}, default=str) + "\n")
        self.stream.flush()


def copy_table(db, table: TableCopy, total: int, emit: Emitter, batch: int) -> None:
    """Stream one table: SQLite cursor -> COPY text by target column -> PostgreSQL (table.n, table.h after)."""
    last = [time.monotonic()]

    def progress(n: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            emit("progress", table=table.target, done=n, total=total)

    try:
        db.copy(table.target, table.names, table.chunks(batch, progress))
    except ImportFailure:
        raise
    except Exception as e:
        raise server_rejection(e, table) from None
    emit("progress", table=table.target, done=table.n, total=total)


def server_rejection(e: Exception, table: TableCopy) -> Exception:
    """PostgreSQL refused a value (a range, a length, a date it checks on input): name the row by its key."""
    # psycopg puts the server's fields in e.diag; asyncpg's PostgresError carries them itself.
    diag = getattr(e, "diag", None)
    from_server = diag is not None or (bool(getattr(e, "sqlstate", None)) and hasattr(e, "message"))
    context = (getattr(diag, "context", None) if diag is not None else getattr(e, "context", None)) or ""
    primary = getattr(diag, "message_primary", None) if diag is not None else getattr(e, "message", None)
    message = (primary or str(e)).strip()
    m = re.search(r"COPY [^,]+, line (\d+)(?:, column ([^:]+))?", context)
    if not m:
        return ImportFailure("server", f"PostgreSQL refused the rows of {table.target}: {message}") if from_server else e
    n = int(m.group(1))
    # COPY's line n is the n-th row of the same SELECT: one line per row, in the cursor's order.
    raw = table.lite.execute(f"{table.select} LIMIT 1 OFFSET {n - 1}").fetchone()
    where = table.key_of(raw, n) if raw else f"row {n}"
    column = f", column {m.group(2)}" if m.group(2) else ""
    if m.group(2) and SECRET_COLUMN.search(m.group(2)):
        message = message.split(":")[0] + ": ****"
    # Class 23 (a duplicate key, a NOT NULL): the row clashes with the schema or rows already there.
    kind = "conflict" if str(getattr(e, "sqlstate", "") or "").startswith("23") else "bad-value"
    return ImportFailure(kind, f"{table.target} ({where}){column}: PostgreSQL says {message}", table=table.target, key=where)


def table_hashes(db, tables: list[TableCopy], utf8: bool) -> dict[str, tuple[int, int]]:
    """(rows, content hash) per table, computed by PostgreSQL in one query."""
    if not tables:
        return {}
    sql = " UNION ALL ".join(f"SELECT {quote_literal(t.target)} AS t, n, h FROM ({t.hash_query(utf8)}) s" for t in tables)
    return {t: (int(n), int(h) % MOD) for t, n, h in db.query(sql)}


def find_finished_import(db, copies: dict[str, TableCopy], totals: dict[str, int], existing: dict[str, int], utf8: bool) -> list[dict] | None:
    """A process killed between PostgreSQL's commit and the record in state.json leaves the rows
    without a record. They are this file's import when every target table holds exactly the
    SQLite table's rows: the same count, and the same content hash. Returns the tables, else None."""
    if not any(existing.values()) or any(existing[t] != totals[t] for t in copies):
        return None
    pg = table_hashes(db, list(copies.values()), utf8)
    found = []
    for t, table in copies.items():
        if pg[t] != table.digest():
            return None
        found.append({"table": t, "sqliteRows": table.n, "pgRows": table.n, "before": 0, "hashMatch": True, "hash": table.h, "seconds": 0})
    return found


def drop_foreign_keys(db, fks: list[dict], deferred: list[dict], targets: dict) -> tuple[list[dict], list[dict]]:
    """Foreign keys: the app role owns its tables (it ran the migration), so inside the one
    transaction it drops the foreign keys of the tables it fills and re-creates them after the
    copy, as pgloader does outside a transaction: one set-based check per key instead of a trigger
    per row, and any order or cycle works. A rollback restores them. session_replication_role is
    no option: it needs a superuser, which the app role is not. Where the role does not own a
    table, parents go first and a cycle's keys are deferred. Returns (re-create, made deferrable)."""
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
    return recreate, altered


def restore_foreign_keys(db, recreate: list[dict], altered: list[dict], deferred: list[dict]) -> None:
    if recreate:
        # Each key is checked by one anti-join. The tables were filled in this transaction and
        # have no fresh statistics; a hash join is right at any size, a nested loop over a
        # table believed small is not.
        db.query("SET LOCAL enable_nestloop = off")
    for fk in recreate:
        try:
            db.query(f"ALTER TABLE {quote_ident(fk['child'])} ADD CONSTRAINT {quote_ident(fk['name'])} {fk['definition']}")
        except Exception as e:
            detail = getattr(getattr(e, "diag", None), "message_detail", None) or str(e)
            raise ImportFailure("constraint", f"the rows of {fk['child']} break its foreign key {fk['name']} ({detail})", table=fk["child"]) from None
    if recreate:
        db.query("RESET enable_nestloop")
    if deferred and not recreate:
        db.query("SET CONSTRAINTS ALL IMMEDIATE")
        for fk in altered:
            db.query(f"ALTER TABLE {quote_ident(fk['child'])} ALTER CONSTRAINT {quote_ident(fk['name'])} NOT DEFERRABLE")


def run_import(req: dict, url: str, emit: Emitter) -> dict:
    lite = read_sqlite(req["sqlite"])
    db = connect(url)
    try:
        # Naive datetimes are read as UTC; the zone and DateStyle also fix the text the hash reads.
        db.query("SET LOCAL TimeZone = 'UTC'")
        db.query("SET LOCAL DateStyle = 'ISO, YMD'")
        utf8, workers = db.query("SELECT current_setting('server_encoding') = 'UTF8', current_setting('max_parallel_workers_per_gather')::int")[0]
        # The verification's scans run in parallel; on this machine's own server, the leader and
        # one worker per other core keep every core busy, and a worker more only takes turns.
        cores = os.cpu_count() or 1
        if is_local(url) and workers > cores - 1:
            db.query(f"SET LOCAL max_parallel_workers_per_gather = {cores - 1}")
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
        copies = {t: TableCopy(lite, t, targets[t], pks.get(t, [])) for t in order}
        # Nobody writes these tables until the copy commits: the emptiness check and setval stay true.
        db.query(f"LOCK TABLE {', '.join(quote_ident(t) for t in order)} IN SHARE ROW EXCLUSIVE MODE")
        probe = " UNION ALL ".join(f"SELECT {quote_literal(t)}, (SELECT count(*) FROM {quote_ident(t)})" for t in order)
        existing = {t: n for t, n in db.query(probe)}
        # Only a table that would get rows is refused; one the file has no rows for is left as it is.
        nonempty = {t: n for t, n in existing.items() if n and totals[t]}
        # Checked before the refusal and before appending: the rows may be this very file's.
        found = find_finished_import(db, copies, totals, existing, utf8)
        if found:
            return {"alreadyImported": True, "tables": found, "notes": plan["notes"], "imported": 0, "deferred": []}
        if nonempty and not req.get("intoNonempty"):
            raise ImportFailure(
                "nonempty",
                "PostgreSQL already has rows in " + ", ".join(f"{t} ({n})" for t, n in nonempty.items()),
                rows=nonempty,
            )
        recreate, altered = drop_foreign_keys(db, fks, deferred, targets)
        # Appending: the content hash of the rows already there, so the new rows can be checked too.
        before = table_hashes(db, [copies[t] for t in order if existing[t]], utf8)
        results = []
        batch = int(req.get("batch") or 5000)
        for t in order:
            t0 = time.monotonic()
            copy_table(db, copies[t], totals[t], emit, batch)
            results.append({"table": t, "sqliteRows": copies[t].n, "hash": copies[t].h, "seconds": round(time.monotonic() - t0, 3), "before": existing.get(t, 0)})
        restore_foreign_keys(db, recreate, altered, deferred)
        t0 = time.monotonic()
        verify(db, list(copies.values()), results, before, utf8)
        verify_s = time.monotonic() - t0
        set_sequences(db, pg_cols, order)
        db.commit()
        return {
            "verifySeconds": round(verify_s, 3),
            "peakRssKiB": peak_rss_kib(),
            "tables": results,
            "notes": plan["notes"],
            "imported": sum(r["sqliteRows"] for r in results),
            "deferred": [] if recreate else [fk["name"] for fk in deferred],
            "foreignKeysChecked": len(recreate),
            "timestamptzColumns": [f"{t}.{c['column']}" for t in order for _, c in targets[t]["pairs"] if c["typname"] == "timestamptz"],
        }
    finally:
        db.close()
        lite.close()


def is_local(url: str) -> bool:
    """The server runs on this machine: a loopback host or a Unix socket."""
    parts = urlsplit(url)
    hosts = [parts.hostname or "", dict(parse_qsl(parts.query)).get("host", "")]
    return all(h in ("", "localhost", "127.0.0.1", "::1") or h.startswith("/") for h in hosts)


def verify(db, tables: list[TableCopy], results: list[dict], before: dict[str, tuple[int, int]], utf8: bool) -> None:
    """Rows and content hash per table, inside the transaction: a mismatch commits nothing.
    The hash is a sum, so when appending, what the copy added is the difference."""
    got = table_hashes(db, tables, utf8)
    bad = []
    for r in results:
        n0, h0 = before.get(r["table"], (0, 0))
        n, h = got[r["table"]]
        r["pgRows"] = n - n0
        r["hashMatch"] = (h - h0) % MOD == r["hash"]
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
