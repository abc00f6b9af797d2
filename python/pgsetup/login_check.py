"""Log in as the app from Python, with the app's own driver and its exact URL, and report TLS.

Run by pg-setup with the project's interpreter (python/login_check.py). Input: the URL in the
environment (PGSETUP_LOGIN_URL; never argv). Goes through SQLAlchemy's create_async_engine, as
the app does, so the URL's TLS parameters are read by the driver itself (psycopg: libpq's
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

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


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


async def check(url: str) -> dict:
    u = make_url(url)
    driver = u.get_driver_name()
    query = {k: (v if isinstance(v, str) else v[-1]) for k, v in u.query.items()}
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT current_user AS u, s.ssl, s.version FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()"
            ))).one()
            raw = (await conn.get_raw_connection()).driver_connection
            verified, host_checked = client_verification(driver, raw, query) if row.ssl else (False, False)
            return {"ok": True, "driver": driver, "user": row.u, "ssl": bool(row.ssl), "protocol": row.version,
                    "verified": verified, "hostChecked": host_checked}
    finally:
        await engine.dispose()


def cli() -> None:
    try:
        result = asyncio.run(check(os.environ["PGSETUP_LOGIN_URL"]))
    except Exception as e:  # reported, not raised: the caller explains it
        result = {"ok": False, "error": type(e).__name__, "detail": str(e)}
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
