"""Create the first Alembic revision and bring the database to head, in ONE Python process.

Run by pg-setup with the project's interpreter, in the project folder (python/migrate.py). Input (stdin, JSON):
  {"mode": "initial" | "upgrade", "message": str, "settings": {"module", "name", "expr"},
   "base": {"module", "name"}, "models": [module, ...]}
Environment: the app's URL under its env key (read through the app's own settings), and
PGSETUP_SCRATCH_URL when the real database already holds tables but no alembic_version.
Prints one JSON line: what was done, the head revision and the tables of the metadata.
Importing alembic, SQLAlchemy and the app once (instead of once per `alembic` command) is
what makes this faster than typing `alembic revision --autogenerate` + `alembic upgrade head`.
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
from sqlalchemy import inspect, pool
from sqlalchemy.ext.asyncio import create_async_engine

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


async def main() -> dict:
    req = json.load(sys.stdin)
    url, metadata = load(req)
    tables = sorted(metadata.tables)
    if not tables:
        return {"error": "no-tables", "detail": "the models define no tables (are the model modules imported?)"}
    cfg = Config("alembic.ini")
    script = ScriptDirectory.from_config(cfg)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    scratch_url = os.environ.get("PGSETUP_SCRATCH_URL")
    result = {"tables": tables}
    try:
        async with engine.connect() as conn:
            existing = await conn.run_sync(lambda c: inspect(c).get_table_names())
            if req["mode"] == "upgrade" or script.get_heads():
                await conn.run_sync(lambda c: run_with(cfg, c, command.upgrade, "head"))
                result["action"] = "upgraded"
            elif scratch_url and (set(existing) - {"alembic_version"}):
                present = [t for t in tables if t.split(".")[-1] in existing]
                diffs = await conn.run_sync(lambda c: blocking_diffs(c, metadata)) if present else []
                if diffs:
                    return {"error": "schema-differs", "diffs": diffs, "present": present}
                # The real database has the tables already: autogenerate against an empty one.
                scratch = create_async_engine(scratch_url, poolclass=pool.NullPool)
                try:
                    async with scratch.connect() as sconn:
                        rev = await sconn.run_sync(lambda c: run_with(cfg, c, command.revision, message=req["message"], autogenerate=True))
                finally:
                    await scratch.dispose()
                result["revisionFile"] = rev.path
                if present:
                    await conn.run_sync(lambda c: run_with(cfg, c, command.stamp, "head"))
                    result["action"] = "stamped"
                    result["kept"] = present
                else:
                    await conn.run_sync(lambda c: run_with(cfg, c, command.upgrade, "head"))
                    result["action"] = "created"
            else:
                def revise_and_upgrade(c):
                    rev = run_with(cfg, c, command.revision, message=req["message"], autogenerate=True)
                    run_with(cfg, c, command.upgrade, "head")
                    return rev

                rev = await conn.run_sync(revise_and_upgrade)
                result["revisionFile"] = rev.path
                result["action"] = "created"
            await conn.commit()
            result["current"] = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    finally:
        await engine.dispose()
    result["heads"] = list(ScriptDirectory.from_config(cfg).get_heads())
    return result


def cli() -> None:
    if sys.platform == "win32":
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    out = asyncio.run(main())
    print(json.dumps(out, default=str))
    sys.exit(SCHEMA_MISMATCH if "error" in out else 0)
