"""Each test writes a small project of real code shapes into a temp folder and analyzes it.

Also the shared pieces of the tests that need more than the standard library: a throwaway
PostgreSQL cluster (pg_server) and an interpreter with Alembic, SQLAlchemy and psycopg
(alembic_python). .ci/run sets PGSETUP_REQUIRE_PG=1, which turns a missing piece into a
failure instead of a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgsetup.analyze import analyze  # noqa: E402


class Project:
    def __init__(self, root: Path):
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def analyze(self, **overrides) -> dict:
        return analyze(str(self.root), overrides)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def missing(why: str):
    if os.environ.get("PGSETUP_REQUIRE_PG") == "1":
        pytest.fail(why)
    pytest.skip(why)


@dataclass
class PgServer:
    host: str
    port: int
    bindir: Path

    def dsn(self, db: str) -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={db}"

    def url(self, db: str, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://postgres@{self.host}:{self.port}/{db}"


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway cluster (trust auth, superuser postgres) for the whole session."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg is not installed in this interpreter")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = bins[-1] if bins else shutil.which("initdb")
    if not initdb:
        missing("no initdb on this machine")
    bindir = Path(initdb).parent
    root = Path(tempfile.mkdtemp(prefix="pgsetup-pytest-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the cluster belongs to postgres
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
        as_owner = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield PgServer("127.0.0.1", port, bindir)
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def alembic_python(tmp_path_factory) -> str:
    """A venv's interpreter with Alembic, SQLAlchemy and psycopg 3, as a project has them
    (made with uv, from its cache when it can)."""
    uv = shutil.which("uv")
    if not uv:
        missing("uv is not installed (it makes the venv with Alembic for the migration tests)")
    venv = tmp_path_factory.mktemp("alembic-venv") / "venv"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    made = subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], env=env, capture_output=True, text=True)
    if made.returncode == 0:
        made = subprocess.run([uv, "pip", "install", "-q", "alembic", "sqlalchemy", "psycopg[binary]"], env=env, capture_output=True, text=True)
    if made.returncode != 0:
        missing(f"could not make a venv with Alembic: {made.stderr.strip()[-500:]}")
    return str(venv / "bin" / "python")
