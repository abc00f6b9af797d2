"""Send an upgrade's DDL without waiting for each statement (psycopg 3's pipeline mode).

One statement at a time, Python and the server take turns: at 500 tables the upgrade sends
2,000 statements and waits for each. Pipelined, the server creates one table while Python
builds the next; the statements, their order and the one transaction are the same.
Standard library only at import time: the driver is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable


class DdlPipeline:
    """Pipeline mode for DDL only, on one psycopg connection.

    Before each statement the caller says whether it is DDL. DDL enters pipeline mode (once);
    any other statement (a query, the alembic_version row) first leaves it, which waits for
    everything sent and raises the first error, and then runs as it always does, its rows read
    as before.
    """

    def __init__(self, raw):
        self.raw = raw
        self.active = None
        self.used = False

    def before_execute(self, is_ddl: bool) -> None:
        if not is_ddl:
            self.sync()
        elif self.active is None:
            self.active = self.raw.pipeline()
            self.active.__enter__()
            self.used = True

    def sync(self) -> None:
        """Leave pipeline mode: wait for every statement sent; raises the first one's error."""
        active, self.active = self.active, None
        if active is not None:
            active.__exit__(None, None, None)

    def abandon(self, error: BaseException) -> None:
        """Leave pipeline mode after `error`, raising nothing more."""
        active, self.active = self.active, None
        if active is not None:
            try:
                active.__exit__(type(error), error, error.__traceback__)
            except BaseException:  # noqa: BLE001 (the caller handles `error` itself)
                pass


def pipeline_connection(raw):
    """`raw` when it is a psycopg 3 connection whose libpq has pipeline mode, else None."""
    if getattr(raw, "pipeline", None) is None:
        return None
    try:
        import psycopg
    except ImportError:
        return None
    supported = hasattr(psycopg, "Pipeline") and isinstance(raw, psycopg.Connection) and psycopg.Pipeline.is_supported()
    return raw if supported else None


def run_pipelined(
    raw,
    listen: Callable[[Callable[[bool], None]], Callable[[], None]],
    upgrade: Callable[[], None],
    rollback: Callable[[], None],
) -> None:
    """Run `upgrade()` with its DDL pipelined on `raw`.

    `listen(before)` makes `before(is_ddl)` run before every statement and returns what undoes
    that. Only for a revision that is DDL in one transaction (autogenerate's first revision):
    when the pipelined attempt fails, `rollback()` leaves nothing of it and `upgrade()` runs
    again the plain way, so the error names the statement that failed (pipelined, an error
    surfaces at a later statement) and is exactly the one a plain upgrade reports.
    """
    pipe = DdlPipeline(raw)
    unlisten = listen(pipe.before_execute)
    try:
        upgrade()
        pipe.sync()
        return
    except Exception as e:
        pipe.abandon(e)
        if not pipe.used:
            raise
    finally:
        unlisten()
    rollback()
    upgrade()
