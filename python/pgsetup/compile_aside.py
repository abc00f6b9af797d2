"""Compile the new revision file in a process that never imported the app.

At 500 models the migration driver holds the app and autogenerate's work (about 125 MiB) when
Alembic loads the 650 KB revision file it just wrote, and compiling it takes some 60 MiB more
for a moment: that compile was the driver's peak. So the driver forks once, first thing, with
only the standard library imported: the child does all the migration work as before, and the
parent only compiles what the child asks for into the file's bytecode cache (the .pyc Alembic's
load would write) and then leaves the way the child did. The child's load then reads the .pyc.
Forking before Alembic and SQLAlchemy are imported leaves the parent small (a bare interpreter
and the compile) and the child with few pages to copy on write.

Standard library only. Where os.fork is missing (Windows) nothing forks and the one process
compiles its revision itself, as Alembic always does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import signal
import sys


class Compiler:
    """The child's end: `compile(path)` asks the parent to write path's .pyc and waits."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    def compile(self, path: str) -> bool:
        """True when the parent wrote the .pyc; False (the load compiles) on any failure."""
        try:
            self.writer.write(json.dumps(os.fspath(path)) + "\n")
            self.writer.flush()
            return self.reader.readline().strip() == "ok"
        except (OSError, ValueError):
            return False


def compile_to_cache(path: str, cfile: str | None = None) -> str:
    """Write path's .pyc where its import would look for it (`cfile`, when the caller has it
    already); returns that path.

    py_compile writes what an import writes (same place, same interpreter, timestamp or, under
    SOURCE_DATE_EPOCH, checked hash), atomically.
    """
    cfile = cfile or importlib.util.cache_from_source(os.path.abspath(path))
    return py_compile.compile(path, cfile=cfile, doraise=True)


class _Cleanup:
    """Under PYTHONDONTWRITEBYTECODE (-B) the .pyc is still handed over, then removed once the
    child is done: nothing is left that the user's setting would not have left."""

    def __init__(self):
        self.files: list[str] = []
        self.dirs: list[str] = []

    def note(self, cfile: str, dir_existed: bool) -> None:
        if not sys.dont_write_bytecode:
            return
        self.files.append(cfile)
        if not dir_existed:
            self.dirs.append(os.path.dirname(cfile))

    def run(self) -> None:
        for f in self.files:
            try:
                os.remove(f)
            except OSError:
                pass
        for d in self.dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass


def serve(reader, writer, cleanup: _Cleanup) -> None:
    """The parent's loop: one path per line in, "ok" or "no" out, until the child closes."""
    for line in reader:
        try:
            path = json.loads(line)
            cfile = importlib.util.cache_from_source(os.path.abspath(path))
            existed = os.path.isdir(os.path.dirname(cfile))
            compile_to_cache(path, cfile)
            cleanup.note(cfile, existed)
            answer = "ok"
        except Exception:  # noqa: BLE001 (the child's own load reports what is wrong)
            answer = "no"
        try:
            writer.write(answer + "\n")
            writer.flush()
        except OSError:
            return


def _leave_like(status: int) -> None:
    """Exit with the child's exit code, or die of the signal that ended it. The parent has
    nothing to flush or finalize (it prints nothing): os._exit spares the interpreter's teardown."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and os.environ.get("PGSETUP_MIGRATE_ONE_PROCESS") != "1"


def start() -> Compiler | None:
    """Fork: the child gets a Compiler and carries on; the parent serves it, then exits as the
    child did (this never returns in the parent). None when there is no fork: carry on alone.

    SIGTERM and SIGHUP sent to the parent are passed on to the child, which does the work and
    so decides how the run ends. SIGINT is ignored here: Ctrl-C reaches the child itself (the
    terminal signals the whole process group), and passing it on would interrupt the child's
    clean-up with a second KeyboardInterrupt.
    """
    if not can_fork():
        return None
    to_parent_r, to_parent_w = os.pipe()
    to_child_r, to_child_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(to_parent_r)
        os.close(to_child_w)
        return Compiler(os.fdopen(to_child_r, "r", encoding="utf-8"), os.fdopen(to_parent_w, "w", encoding="utf-8"))
    os.close(to_parent_w)
    os.close(to_child_r)

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except OSError:
            pass

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cleanup = _Cleanup()
    try:
        with os.fdopen(to_parent_r, "r", encoding="utf-8") as reader, os.fdopen(to_child_w, "w", encoding="utf-8") as writer:
            serve(reader, writer, cleanup)
        _pid, status = os.waitpid(pid, 0)
    finally:
        cleanup.run()
    _leave_like(status)
    raise AssertionError("unreachable")
