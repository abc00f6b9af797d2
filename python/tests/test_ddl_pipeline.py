"""The upgrade's DDL in psycopg's pipeline mode, with a stand-in connection: which statements
are pipelined, when the pipeline waits for the server, and what happens when one fails.

A real server and driver run it in test/e2e (every first run's migration goes through it)."""

from __future__ import annotations

import pytest

from pgsetup.ddl_pipeline import DdlPipeline, pipeline_connection, run_pipelined


class ServerError(Exception):
    pass


class FakeConnection:
    """Records pipeline mode: 'enter', 'sync', 'abandon'; `fail_at_sync` is an error the server
    reports for a pipelined statement, raised when the pipeline is left."""

    def __init__(self, fail_at_sync: Exception | None = None):
        self.log: list[str] = []
        self.fail_at_sync = fail_at_sync

    def pipeline(self):
        conn = self

        class Mode:
            def __enter__(self):
                conn.log.append("enter")

            def __exit__(self, exc_type, exc, tb):
                conn.log.append("abandon" if exc_type else "sync")
                if conn.fail_at_sync and not exc_type:
                    raise conn.fail_at_sync
                return False

        return Mode()


def test_consecutive_ddl_shares_one_pipeline_and_a_query_first_waits_for_it():
    conn = FakeConnection()
    pipe = DdlPipeline(conn)
    for is_ddl in (False, True, True, True, False, True):
        pipe.before_execute(is_ddl)
        conn.log.append("ddl" if is_ddl else "query")
    pipe.sync()
    assert conn.log == ["query", "enter", "ddl", "ddl", "ddl", "sync", "query", "enter", "ddl", "sync"]


def test_queries_alone_never_enter_pipeline_mode():
    conn = FakeConnection()
    pipe = DdlPipeline(conn)
    pipe.before_execute(False)
    pipe.before_execute(False)
    pipe.sync()
    assert conn.log == [] and not pipe.used


def test_an_error_of_a_pipelined_statement_is_raised_when_the_pipeline_is_left():
    conn = FakeConnection(fail_at_sync=ServerError("relation exists"))
    pipe = DdlPipeline(conn)
    pipe.before_execute(True)
    with pytest.raises(ServerError):
        pipe.before_execute(False)


class Upgrade:
    """A stand-in upgrade: DDL statements through whatever listens, then the version row."""

    def __init__(self, conn: FakeConnection, statements=(True, True, False), fail_on_run: set[int] = frozenset()):
        self.conn = conn
        self.statements = statements
        self.fail_on_run = fail_on_run
        self.listener = None
        self.runs: list[bool] = []  # per run: was a listener attached (pipelined)?
        self.rollbacks = 0

    def listen(self, before):
        self.listener = before

        def remove():
            self.listener = None

        return remove

    def __call__(self):
        self.runs.append(self.listener is not None)
        for is_ddl in self.statements:
            if self.listener:
                self.listener(is_ddl)
        if len(self.runs) in self.fail_on_run:
            raise ServerError(f"run {len(self.runs)} failed")

    def rollback(self):
        self.rollbacks += 1


def test_a_successful_upgrade_runs_once_pipelined_and_removes_its_listener():
    conn = FakeConnection()
    up = Upgrade(conn)
    run_pipelined(conn, up.listen, up, up.rollback)
    assert up.runs == [True] and up.rollbacks == 0 and up.listener is None
    assert conn.log == ["enter", "sync"]


def test_a_failed_pipelined_upgrade_is_rolled_back_and_run_again_the_plain_way():
    conn = FakeConnection(fail_at_sync=ServerError("type does not exist"))
    up = Upgrade(conn)
    run_pipelined(conn, up.listen, up, up.rollback)
    assert up.runs == [True, False] and up.rollbacks == 1
    # The second run's statements go one at a time: the pipeline is not entered again.
    assert conn.log == ["enter", "sync"]


def test_the_plain_runs_error_is_the_one_reported():
    conn = FakeConnection()
    up = Upgrade(conn, statements=(True, False), fail_on_run={1, 2})
    with pytest.raises(ServerError, match="run 2 failed"):
        run_pipelined(conn, up.listen, up, up.rollback)
    assert up.runs == [True, False] and up.rollbacks == 1


def test_a_failure_before_any_ddl_was_pipelined_is_raised_as_it_is():
    conn = FakeConnection()
    up = Upgrade(conn, statements=(False,), fail_on_run={1})
    with pytest.raises(ServerError, match="run 1 failed"):
        run_pipelined(conn, up.listen, up, up.rollback)
    assert up.runs == [True] and up.rollbacks == 0 and up.listener is None


def test_a_failure_inside_the_pipeline_leaves_pipeline_mode_before_the_rollback():
    conn = FakeConnection()
    up = Upgrade(conn, statements=(True, True), fail_on_run={1})
    run_pipelined(conn, up.listen, up, up.rollback)
    assert conn.log == ["enter", "abandon"] and up.runs == [True, False]


@pytest.mark.parametrize("raw", [None, object(), FakeConnection()])
def test_only_a_psycopg_3_connection_is_pipelined(raw):
    assert pipeline_connection(raw) is None
