"""Create the first Alembic revision and bring the database to head.

Run by pg-setup with the project's interpreter, in the project folder (python/migrate.py). Input (stdin, JSON):
  {"mode": "initial" | "upgrade", "message": str, "settings": {"module", "name", "expr"},
   "base": {"module", "name"}, "models": [module, ...], "sysPath": [dir, ...]}
Environment: the app's URL under its env key (read through the app's own settings), and
PGSETUP_SCRATCH_URL when the real database already holds tables but no alembic_version.
Prints one JSON line: what was done, the head revision and the tables of the metadata.
Importing alembic, SQLAlchemy and the app once (instead of once per `alembic` command) is
what makes this faster than typing `alembic revision --autogenerate` + `alembic upgrade head`.
Where os.fork exists, python/migrate.py forks before anything but the standard library is
imported: the child does all of the above; the parent, which never imports the app, only
compiles the new revision file for it (python/pgsetup/compile_aside.py), so the compile's
memory does not add to the app's.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, pool

from . import compile_aside
from .collector import imported_frozen
from .ddl_pipeline import pipeline_connection, run_pipelined
from .revision import compile_elsewhere, lean_downgrades, origin_objects

SCHEMA_MISMATCH = 3


def load(req: dict):
    settings_mod = importlib.import_module(req["settings"]["module"])
    url = eval(req["settings"]["expr"], {req["settings"]["name"]: getattr(settings_mod, req["settings"]["name"])})  # noqa: S307 (our own expression)
    base = getattr(importlib.import_module(req["base"]["module"]), req["base"]["name"])
    for m in req["models"]:
        importlib.import_module(m)
    return str(url), base.metadata


def blocking_diffs(conn, metadata) -> list[str]:
    """Differences between the database and the models that stamping would hide."""
    mc = MigrationContext.configure(conn, opts={"compare_type": True})
    out = []
    for diff in compare_metadata(mc, metadata):
        for d in diff if isinstance(diff, list) else [diff]:
            op = d[0]
            # Tables (and their indexes) the app does not model are not ours to judge.
            if op == "remove_table" or (op == "remove_index" and d[1].table.name not in metadata.tables):
                continue
            out.append(describe(d))
    return out


def describe(d) -> str:
    op = d[0]
    if op in ("add_table", "remove_table"):
        return f"{op} {d[1].name}"
    if op in ("add_column", "remove_column"):
        return f"{op} {d[2]}.{d[3].name}"
    if op in ("add_index", "remove_index"):
        return f"{op} {d[1].name} on {d[1].table.name}"
    if op == "modify_type":
        return f"modify_type {d[2]}.{d[3]}: database {d[5]}, models {d[6]}"
    if op == "modify_nullable":
        return f"modify_nullable {d[2]}.{d[3]}: database {d[5]}, models {d[6]}"
    return " ".join(str(x) for x in d[:4])


def run_with(cfg: Config, conn, fn, *args, **kwargs):
    cfg.attributes["connection"] = conn
    try:
        return fn(cfg, *args, **kwargs)
    finally:
        cfg.attributes.pop("connection", None)


def new_revision(cfg: Config, conn, message: str):
    """`alembic revision --autogenerate` on conn, without the copies of tables and indexes
    that its ops make for the downgrade and for rendering (python/pgsetup/revision.py)."""
    with lean_downgrades(), origin_objects():
        return run_with(cfg, conn, command.revision, message=message, autogenerate=True)


def upgrade_new_revision(cfg: Config, conn) -> None:
    """`alembic upgrade head` for the revision autogenerate just wrote: its DDL pipelined
    when the driver is psycopg 3 (python/pgsetup/ddl_pipeline.py), else as Alembic runs it."""
    raw = pipeline_connection(getattr(conn.connection, "driver_connection", None))
    if raw is None:
        run_with(cfg, conn, command.upgrade, "head")
        return

    def listen(before):
        def before_cursor_execute(_conn, _cursor, _statement, _params, context, _many):
            before(bool(getattr(context, "isddl", False)))

        event.listen(conn, "before_cursor_execute", before_cursor_execute)
        return lambda: event.remove(conn, "before_cursor_execute", before_cursor_execute)

    run_pipelined(raw, listen, lambda: run_with(cfg, conn, command.upgrade, "head"), conn.rollback)


def work(req: dict, cfg: Config, metadata, conn, on_scratch) -> dict:
    """The migration on one sync connection (an async engine hands one through run_sync).

    `on_scratch(fn)` runs fn on a connection to the empty scratch database.
    """
    tables = sorted(metadata.tables)
    script = ScriptDirectory.from_config(cfg)
    result = {"tables": tables}
    existing = inspect(conn).get_table_names()
    if req["mode"] == "upgrade" or script.get_heads():
        run_with(cfg, conn, command.upgrade, "head")
        result["action"] = "upgraded"
        # No revision was written: this script directory's view is current.
        result["heads"] = list(script.get_heads())
    elif os.environ.get("PGSETUP_SCRATCH_URL") and (set(existing) - {"alembic_version"}):
        present = [t for t in tables if t.split(".")[-1] in existing]
        diffs = blocking_diffs(conn, metadata) if present else []
        if diffs:
            return {"error": "schema-differs", "diffs": diffs, "present": present}
        # The real database has the tables already: autogenerate against an empty one.
        rev = on_scratch(lambda c: new_revision(cfg, c, req["message"]))
        result["revisionFile"] = rev.path
        result["heads"] = [rev.revision]
        if present:
            run_with(cfg, conn, command.stamp, "head")
            result["action"] = "stamped"
            result["kept"] = present
        else:
            upgrade_new_revision(cfg, conn)
            result["action"] = "created"
    else:
        rev = new_revision(cfg, conn, req["message"])
        upgrade_new_revision(cfg, conn)
        result["revisionFile"] = rev.path
        # The first revision is the only one, so it is the head: reading the folder again
        # would load the whole revision file a third time (Alembic's revision and upgrade
        # commands each load it already; at 500 tables that is 0.2-0.3 s).
        result["heads"] = [rev.revision]
        result["action"] = "created"
    conn.commit()
    result["current"] = MigrationContext.configure(conn).get_current_heads()
    return result


def is_async_url(url: str) -> bool:
    """asyncpg can only run async; psycopg (and psycopg2) serve a plain sync engine, which
    needs no greenlet: a sync app may not have it installed."""
    return "+asyncpg" in url.split("://", 1)[0]


def run_sync_engine(req: dict, cfg: Config, url: str, metadata) -> dict:
    def on_scratch(fn):
        scratch = create_engine(os.environ["PGSETUP_SCRATCH_URL"], poolclass=pool.NullPool)
        try:
            with scratch.connect() as c:
                return fn(c)
        finally:
            scratch.dispose()

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return work(req, cfg, metadata, conn, on_scratch)
    finally:
        engine.dispose()


async def run_async_engine(req: dict, cfg: Config, url: str, metadata) -> dict:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.util import await_only

    async def scratch_run(fn):
        scratch = create_async_engine(os.environ["PGSETUP_SCRATCH_URL"], poolclass=pool.NullPool)
        try:
            async with scratch.connect() as c:
                return await c.run_sync(fn)
        finally:
            await scratch.dispose()

    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            # Inside run_sync a coroutine can still be awaited with await_only (same greenlet).
            return await conn.run_sync(lambda c: work(req, cfg, metadata, c, lambda fn: await_only(scratch_run(fn))))
    finally:
        await engine.dispose()


def main(req: dict, compiler: compile_aside.Compiler | None = None) -> dict:
    for p in reversed(req.get("sysPath") or []):
        sys.path.insert(0, os.path.abspath(p))
    url, metadata = imported_frozen(load, req)
    if not metadata.tables:
        return {"error": "no-tables", "detail": "the models define no tables (are the model modules imported?)"}
    cfg = Config("alembic.ini")
    if compiler is not None:
        compile_elsewhere(cfg, compiler.compile)
    if is_async_url(url):
        if sys.platform == "win32":
            asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
        result = asyncio.run(run_async_engine(req, cfg, url, metadata))
    else:
        result = run_sync_engine(req, cfg, url, metadata)
    return result


def cli(compiler: compile_aside.Compiler | None = None) -> None:
    """`compiler`: the parent's end when python/migrate.py forked (else the revision is
    compiled here, as Alembic always does)."""
    req = json.load(sys.stdin)
    out = main(req, compiler)
    if "error" not in out and req.get("login") and os.environ.get("PGSETUP_LOGIN_URL"):
        # The run's last proof (the app's driver logs in with the URL as written, through
        # SQLAlchemy), here where SQLAlchemy and the driver are loaded already, rather than in a
        # Python process of its own: see python/pgsetup/login_check.py.
        from .login_check import checked

        out["login"] = checked(os.environ["PGSETUP_LOGIN_URL"])
    print(json.dumps(out, default=str))
    sys.exit(SCHEMA_MISMATCH if "error" in out else 0)
