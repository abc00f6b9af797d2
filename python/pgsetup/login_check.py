"""Log in as the app from Python, with the app's own driver and its exact URL, and report TLS.

Run by pg-setup with the project's interpreter (python/login_check.py). Input: the URL in the
environment (PGSETUP_LOGIN_URL; never argv). Goes through SQLAlchemy, as the app does (a sync
engine for psycopg, which serves sync and async apps alike and needs no greenlet; async for asyncpg), so the URL's TLS parameters are read by the driver itself (psycopg: libpq's
sslmode/sslrootcert; asyncpg: ssl=...). Prints one JSON line:
  {"ok": true, "driver", "user", "ssl": bool, "protocol": "TLSv1.3" | null, "verified": bool, "hostChecked": bool}
  {"ok": false, "error": "<exception class>", "detail": "<message>"}
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url


def client_verification(driver: str, raw, query: dict) -> tuple[bool, bool]:
    """(certificate verified, host name checked) as the driver set up the connection."""
    if driver == "asyncpg":
        obj = raw._transport.get_extra_info("ssl_object") if getattr(raw, "_transport", None) else None
        if obj is None:
            return False, False
        ctx = obj.context
        return ctx.verify_mode == ssl.CERT_REQUIRED, ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    # psycopg: libpq enforces sslmode; require with a root certificate verifies like verify-ca.
    mode = raw.info.get_parameters().get("sslmode") or query.get("sslmode", "prefer")
    verified = mode in ("verify-ca", "verify-full") or (mode == "require" and bool(query.get("sslrootcert")))
    return verified, mode == "verify-full"


SSL_QUERY = "SELECT current_user AS u, s.ssl, s.version FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()"


def report(driver: str, row, raw, query: dict) -> dict:
    verified, host_checked = client_verification(driver, raw, query) if row.ssl else (False, False)
    return {"ok": True, "driver": driver, "user": row.u, "ssl": bool(row.ssl), "protocol": row.version,
            "verified": verified, "hostChecked": host_checked}


def check_sync(url: str, driver: str, query: dict) -> dict:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(SSL_QUERY)).one()
            return report(driver, row, conn.connection.driver_connection, query)
    finally:
        engine.dispose()


async def check_async(url: str, driver: str, query: dict) -> dict:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text(SSL_QUERY))).one()
            raw = (await conn.get_raw_connection()).driver_connection
            return report(driver, row, raw, query)
    finally:
        await engine.dispose()


def check(url: str) -> dict:
    u = make_url(url)
    driver = u.get_driver_name()
    query = {k: (v if isinstance(v, str) else v[-1]) for k, v in u.query.items()}
    if driver == "asyncpg":
        return asyncio.run(check_async(url, driver, query))
    return check_sync(url, driver, query)


def checked(url: str) -> dict:
    """check(), with a failure reported as {"ok": false, ...}: the caller explains it."""
    try:
        return check(url)
    except Exception as e:  # reported, not raised
        return {"ok": False, "error": type(e).__name__, "detail": str(e)}


def cli() -> None:
    result = checked(os.environ["PGSETUP_LOGIN_URL"])
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
