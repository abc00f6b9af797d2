"""The migration driver's fork (python/pgsetup/compile_aside.py), in real processes: the parent
compiles what the child asks for into the bytecode cache, the child's load reads it instead of
compiling, and the parent leaves the way the child did."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PYDIR = str(Path(__file__).resolve().parents[1])

CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    sys.path.insert(0, {pydir!r})
    from pgsetup import compile_aside
    started = os.getpid()
    compiler = compile_aside.start()
    mode, path = sys.argv[1], sys.argv[2]
    if compiler is None:
        print(json.dumps({{"forked": False}}), flush=True)
        sys.exit(0)
    with open(path, "w") as fh:
        fh.write(sys.argv[3] if len(sys.argv) > 3 else "X = 42\\n")
    ok = compiler.compile(path)
    cfile = importlib.util.cache_from_source(os.path.abspath(path))
    out = {{"forked": True, "ok": ok, "pyc": os.path.exists(cfile), "cfile": cfile, "child": os.getpid(), "started": started}}
    if mode == "load":
        # A load that had to compile would call source_to_code: make that fail.
        import importlib._bootstrap_external as ext
        def no_compile(*a, **k):
            raise AssertionError("compiled in the child")
        ext.SourceLoader.source_to_code = no_compile
        spec = importlib.util.spec_from_file_location("rev", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out["X"] = module.X
    if mode == "interrupt":
        import time
        try:
            print(json.dumps(out), flush=True)  # inside: the test sends Ctrl-C once it reads this
            time.sleep(60)
        except KeyboardInterrupt:
            time.sleep(0.5)  # clean-up that a second SIGINT would cut short
            print("cleaned", flush=True)
            sys.exit(3)
    print(json.dumps(out), flush=True)
    if mode == "signal":
        os.kill(os.getpid(), 15)
    if mode == "sleep":
        import time
        time.sleep(60)
    sys.exit(7)
    """
).format(pydir=PYDIR)


def run(tmp_path: Path, mode: str, *extra: str, env: dict | None = None, bytecode: bool = True):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    target = tmp_path / "versions" / "rev.py"
    target.parent.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PGSETUP_MIGRATE_ONE_PROCESS")}
    if not bytecode:
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(script), mode, str(target), *extra], capture_output=True, text=True, env=full_env, timeout=60), target


def test_the_parent_compiles_the_file_and_the_child_loads_the_bytecode_without_compiling(tmp_path):
    r, target = run(tmp_path, "load")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["forked"] and out["ok"] and out["pyc"] and out["X"] == 42, r.stderr
    assert out["child"] != out["started"] and r.returncode == 7  # the parent leaves with the child's code
    assert Path(out["cfile"]).exists()  # bytecode is written as an import would: it stays


def test_under_dont_write_bytecode_the_handed_over_pyc_is_removed_at_the_end(tmp_path):
    r, target = run(tmp_path, "load", bytecode=False)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["ok"] and out["pyc"] and out["X"] == 42, r.stderr
    assert not Path(out["cfile"]).exists()
    assert not (target.parent / "__pycache__").exists()


def test_a_file_that_does_not_compile_is_left_to_the_childs_own_load(tmp_path):
    r, _ = run(tmp_path, "plain", "def broken(:\n")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["forked"] and out["ok"] is False and out["pyc"] is False
    assert r.returncode == 7


def test_the_parent_dies_of_the_signal_that_ended_the_child(tmp_path):
    r, _ = run(tmp_path, "signal")
    assert r.returncode == -signal.SIGTERM


def test_a_sigterm_to_the_parent_is_passed_on_to_the_child(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    (tmp_path / "versions").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PGSETUP_MIGRATE_ONE_PROCESS"}
    p = subprocess.Popen([sys.executable, str(script), "sleep", str(tmp_path / "versions" / "rev.py")], stdout=subprocess.PIPE, text=True, env=env)
    try:
        child = json.loads(p.stdout.readline())["child"]
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == -signal.SIGTERM
    finally:
        p.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child outlived its parent's SIGTERM")


def test_ctrl_c_interrupts_the_child_once_and_the_parent_leaves_as_it_does(tmp_path):
    """Ctrl-C signals the whole process group: the child gets it from the terminal, and the
    parent must not pass on a second one that would cut the child's clean-up short."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    (tmp_path / "versions").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PGSETUP_MIGRATE_ONE_PROCESS"}
    p = subprocess.Popen([sys.executable, str(script), "interrupt", str(tmp_path / "versions" / "rev.py")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        json.loads(p.stdout.readline())
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        p.kill()
    assert "cleaned" in out, err
    assert p.returncode == 3, err


def test_without_a_fork_the_process_carries_on_alone(tmp_path):
    r, _ = run(tmp_path, "plain", env={"PGSETUP_MIGRATE_ONE_PROCESS": "1"})
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"forked": False} and r.returncode == 0


def test_compile_to_cache_writes_what_the_import_system_reads(tmp_path):
    from pgsetup.compile_aside import compile_to_cache

    src = tmp_path / "m.py"
    src.write_text("Y = 'y'\n")
    cfile = compile_to_cache(str(src))
    assert cfile == importlib.util.cache_from_source(str(src)) and os.path.exists(cfile)
