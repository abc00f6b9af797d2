"""The migration driver (python/migrate.py) on a small project against a real PostgreSQL, in both
of its shapes: forked (the parent compiles the revision) and one process (where there is no
fork). Its revision file must be the one `alembic revision --autogenerate` writes (but for the
id and date) and the schema after its upgrade the one `alembic upgrade head` leaves; the lean
downgrade ops must render as Alembic's own. Needs conftest.py's pg_server and alembic_python."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYDIR = ROOT / "python"
TEMPLATES = ROOT / "templates" / "alembic"

MODELS = '''
from sqlalchemy import CheckConstraint, Column, DateTime, Enum, ForeignKey, Index, Integer, Numeric, String, Table, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base

post_tag = Table(
    "post_tag",
    Base.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id"), primary_key=True),
)


class Author(Base):
    __tablename__ = "author"
    __table_args__ = {"comment": "who writes"}
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    created_at = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Post(Base):
    __tablename__ = "post"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), comment="shown in lists")
    body: Mapped[str | None] = mapped_column(Text)
    status = mapped_column(Enum("draft", "published", name="post_status"), nullable=False, server_default="draft")
    score = mapped_column(Numeric(10, 2))
    __table_args__ = (
        Index("ix_post_title_lower", func.lower(title)),
        Index("ix_post_published", "author_id", postgresql_where=text("status = 'published'")),
        CheckConstraint("score >= 0", name="ck_post_score"),
        UniqueConstraint("author_id", "title", name="uq_post_author_title"),
    )


class Tag(Base):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(50), unique=True, index=True)
'''


def write_project(dir_: Path) -> None:
    (dir_ / "alembic" / "versions").mkdir(parents=True)
    shutil.copy(TEMPLATES / "alembic.ini", dir_ / "alembic.ini")
    shutil.copy(TEMPLATES / "alembic" / "script.py.mako", dir_ / "alembic" / "script.py.mako")
    env = (TEMPLATES / "env-sync.py").read_text()
    env = env.replace("{{IMPORTS}}", "from config import settings\nfrom database import Base\nimport models  # noqa: F401")
    env = env.replace("{{URL_EXPR}}", "settings.database_url").replace("{{METADATA_EXPR}}", "Base.metadata")
    (dir_ / "alembic" / "env.py").write_text(env)
    (dir_ / "config.py").write_text("import os\n\n\nclass Settings:\n    database_url = os.environ['DATABASE_URL']\n\n\nsettings = Settings()\n")
    (dir_ / "database.py").write_text("from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n")
    (dir_ / "models.py").write_text(textwrap.dedent(MODELS).lstrip())


REQUEST = {
    "mode": "initial",
    "message": "initial schema",
    "settings": {"module": "config", "name": "settings", "expr": "settings.database_url"},
    "base": {"module": "database", "name": "Base"},
    "models": ["models"],
    "sysPath": [],
}


@pytest.fixture
def new_db(pg_server):
    import psycopg

    made = []

    def make(pre_sql: str | None = None) -> str:
        name = f"drv_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        made.append(name)
        if pre_sql:
            with psycopg.connect(pg_server.dsn(name), autocommit=True) as c:
                c.execute(pre_sql)
        return name

    yield make
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as c:
        for name in made:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PGSETUP_MIGRATE_ONE_PROCESS")}
    env.update(extra)
    return env


def run_driver(python: str, project: Path, url: str, request: dict = REQUEST, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, str(PYDIR / "migrate.py")], cwd=project, input=json.dumps(request), capture_output=True, text=True, timeout=120, env=clean_env(DATABASE_URL=url, **env)
    )


def run_probe(python: str, project: Path, name: str, source: str, url: str) -> dict:
    """Runs a probe script in the project against `url`; returns the JSON on its last line."""
    (project / name).write_text(source)
    r = subprocess.run([python, name, url], cwd=project, capture_output=True, text=True, timeout=120, env=clean_env(DATABASE_URL=url))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def revision_text(project: Path) -> str:
    (path,) = (project / "alembic" / "versions").glob("*.py")
    text = path.read_text()
    rev = re.search(r"^revision: str = '([0-9a-f]+)'", text, re.M).group(1)
    return re.sub(r"^Create Date: .*$", "Create Date: X", text.replace(rev, "REV"), flags=re.M)


def schema(pg_server, db: str) -> str:
    out = subprocess.run([str(pg_server.bindir / "pg_dump"), "-s", "-h", pg_server.host, "-p", str(pg_server.port), "-U", "postgres", db], capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


@pytest.fixture(scope="module")
def typed(tmp_path_factory, pg_server, alembic_python):
    """What the two typed commands write and leave, once per module."""
    import psycopg

    project = tmp_path_factory.mktemp("typed")
    write_project(project)
    db = f"typed_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {db}")
    env = clean_env(DATABASE_URL=pg_server.url(db))
    for args in (["revision", "--autogenerate", "-m", "initial schema"], ["upgrade", "head"]):
        subprocess.run([alembic_python, "-m", "alembic", *args], cwd=project, env=env, check=True, capture_output=True, timeout=120)
    yield {"revision": revision_text(project), "schema": schema(pg_server, db)}
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as c:
        c.execute(f"DROP DATABASE {db} WITH (FORCE)")


@pytest.mark.parametrize("shape", ["forked", "one-process"])
def test_the_driver_writes_and_applies_what_the_typed_commands_do(tmp_path, pg_server, alembic_python, new_db, typed, shape):
    write_project(tmp_path)
    db = new_db()
    r = run_driver(alembic_python, tmp_path, pg_server.url(db), **({"PGSETUP_MIGRATE_ONE_PROCESS": "1"} if shape == "one-process" else {}))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["action"] == "created" and out["current"] == out["heads"]
    # Forked, the parent compiled the file (the hook ran) and the child loaded its bytecode.
    assert ("Running post write hook 'pgsetup_compile'" in r.stdout) == (shape == "forked")
    assert revision_text(tmp_path) == typed["revision"]
    assert schema(pg_server, db) == typed["schema"]
    assert list((tmp_path / "alembic" / "versions" / "__pycache__").glob("*.pyc"))


@pytest.mark.parametrize("login_ok", [True, False])
def test_asked_to_the_driver_also_logs_in_with_the_url_as_login_check_py_does(tmp_path, pg_server, alembic_python, new_db, login_ok):
    """The run's last proof, made in the driver's process: the same report as python/login_check.py
    gives for that URL; a login that fails is reported, not raised (the migration stands)."""
    write_project(tmp_path)
    db = new_db()
    url = pg_server.url(db)
    login_url = url if login_ok else pg_server.url(f"{db}_missing")
    r = run_driver(alembic_python, tmp_path, url, request={**REQUEST, "login": True}, PGSETUP_LOGIN_URL=login_url)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["action"] == "created"
    alone = subprocess.run([alembic_python, str(PYDIR / "login_check.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=clean_env(PGSETUP_LOGIN_URL=login_url))
    expected = json.loads(alone.stdout.strip().splitlines()[-1])
    assert out["login"]["ok"] is login_ok
    if login_ok:
        assert out["login"] == expected
        assert out["login"]["user"] == "postgres" and out["login"]["ssl"] is False
    else:
        assert out["login"]["error"] == expected["error"] and f'database "{db}_missing" does not exist' in out["login"]["detail"]
    # Not asked (or no URL): no login, as before.
    assert "login" not in json.loads(run_driver(alembic_python, tmp_path, url, PGSETUP_LOGIN_URL=login_url).stdout.strip().splitlines()[-1])


def test_without_bytecode_writing_no_pyc_is_left(tmp_path, pg_server, alembic_python, new_db, typed):
    write_project(tmp_path)
    db = new_db()
    r = run_driver(alembic_python, tmp_path, pg_server.url(db), PYTHONDONTWRITEBYTECODE="1")
    assert r.returncode == 0, r.stderr
    assert "Running post write hook 'pgsetup_compile'" in r.stdout
    assert not (tmp_path / "alembic" / "versions" / "__pycache__").exists()
    assert revision_text(tmp_path) == typed["revision"]


@pytest.mark.parametrize("shape", ["forked", "one-process"])
def test_a_failing_statement_is_reported_as_the_plain_upgrade_reports_it(tmp_path, pg_server, alembic_python, new_db, shape):
    write_project(tmp_path)
    db = new_db("CREATE VIEW ix_author_name AS SELECT 1 AS x")
    r = run_driver(alembic_python, tmp_path, pg_server.url(db), **({"PGSETUP_MIGRATE_ONE_PROCESS": "1"} if shape == "one-process" else {}))
    assert r.returncode == 1
    tail = r.stderr.strip().splitlines()[-3:]
    assert 'relation "ix_author_name" already exists' in tail[0]
    assert tail[1] == "[SQL: CREATE INDEX ix_author_name ON author (name)]"
    import psycopg

    with psycopg.connect(pg_server.dsn(db)) as c:
        assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


LEAN = textwrap.dedent(
    """
    import json, sys
    sys.path[:0] = [{pydir!r}, "."]
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.operations import ops
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from pgsetup import revision
    from database import Base
    import models

    def produce(lean, supported=True):
        if not supported:
            revision.lean_reverse_supported = lambda: False
        with create_engine(sys.argv[1]).connect() as conn:
            with revision.lean_downgrades(lean) as active:
                script = produce_migrations(MigrationContext.configure(conn), Base.metadata)
        revision.lean_reverse_supported = saved
        drops = [op for op in script.downgrade_ops.ops if isinstance(op, ops.DropTableOp)]
        drops += [o for op in script.downgrade_ops.ops if isinstance(op, ops.ModifyTableOps) for o in op.ops if isinstance(o, ops.DropIndexOp)]
        creates = {{id(op) for op in script.upgrade_ops.ops}} | {{id(o) for op in script.upgrade_ops.ops if isinstance(op, ops.ModifyTableOps) for o in op.ops}}
        return {{
            "active": active,
            "up": render_python_code(script.upgrade_ops),
            "down": render_python_code(script.downgrade_ops),
            "drops": len(drops),
            "kept_origin": sum(id(op._reverse) in creates for op in drops),
        }}

    saved = revision.lean_reverse_supported
    print(json.dumps({{"lean": produce(True), "plain": produce(False), "unsupported": produce(True, supported=False),
                       "restored": "reverse" in ops.CreateTableOp.__dict__ and not hasattr(ops.CreateTableOp.reverse, "__wrapped__")}}))
    """
).format(pydir=str(PYDIR))


def test_lean_downgrade_ops_render_as_alembics_and_keep_no_copies(tmp_path, pg_server, alembic_python, new_db):
    write_project(tmp_path)
    out = run_probe(alembic_python, tmp_path, "lean.py", LEAN, pg_server.url(new_db()))
    lean, plain, unsupported = out["lean"], out["plain"], out["unsupported"]
    assert lean["active"] and not plain["active"] and not unsupported["active"]
    assert lean["up"] == plain["up"] == unsupported["up"]
    assert lean["down"] == plain["down"] == unsupported["down"]
    assert "op.drop_index(op.f('ix_author_name'), table_name='author')" in lean["down"]
    assert "op.drop_index('ix_post_published', table_name='post', postgresql_where=sa.text(\"status = 'published'\"))" in lean["down"]
    # 4 tables and 5 indexes: lean, each drop op keeps the create op it came from; else a copy.
    assert lean["drops"] == plain["drops"] == 9
    assert lean["kept_origin"] == 9 and plain["kept_origin"] == 0 and unsupported["kept_origin"] == 0
    assert out["restored"]


ORIGIN = textwrap.dedent(
    """
    import json, sys
    sys.path[:0] = [{pydir!r}, "."]
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.operations import ops, schemaobj
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from pgsetup import revision
    from database import Base
    import models

    copies = {{"table": 0, "index": 0}}
    table, index = schemaobj.SchemaObjects.table, schemaobj.SchemaObjects.index

    def counted(kind, make):
        def count(*a, **kw):
            copies[kind] += 1
            return make(*a, **kw)
        return count

    schemaobj.SchemaObjects.table = counted("table", table)
    schemaobj.SchemaObjects.index = counted("index", index)

    def produce(origin, lean=True, supported=True, edit=None):
        if not supported:
            revision.origin_objects_supported = lambda: False
        copies.update(table=0, index=0)
        with create_engine(sys.argv[1]).connect() as conn:
            with revision.lean_downgrades(lean), revision.origin_objects(origin) as active:
                script = produce_migrations(MigrationContext.configure(conn), Base.metadata)
                if edit:
                    edit(script)
                up, down = render_python_code(script.upgrade_ops), render_python_code(script.downgrade_ops)
        revision.origin_objects_supported = saved
        return {{"active": active, "up": up, "down": down, **copies}}

    def rename_first_index(script):
        # A process_revision_directives hook may change an op: it is then rendered from a copy.
        for op in script.upgrade_ops.ops:
            for o in getattr(op, "ops", []):
                if isinstance(o, ops.CreateIndexOp):
                    o.index_name = "ix_renamed"
                    return

    saved = revision.origin_objects_supported
    print(json.dumps({{
        "origin": produce(True), "plain": produce(False), "plain_not_lean": produce(False, lean=False),
        "origin_not_lean": produce(True, lean=False), "unsupported": produce(True, supported=False),
        "edited": produce(True, edit=rename_first_index), "edited_plain": produce(False, edit=rename_first_index),
        "restored": not any(hasattr(getattr(c, m), "__wrapped__") for c, m in (
            (ops.CreateTableOp, "from_table"), (ops.CreateIndexOp, "from_index"), (ops.CreateTableOp, "to_table"),
            (ops.CreateIndexOp, "to_index"), (ops.DropIndexOp, "to_index"))),
    }}))
    """
).format(pydir=str(PYDIR))


def test_origin_objects_render_as_alembics_copies_do_and_spare_them(tmp_path, pg_server, alembic_python, new_db):
    write_project(tmp_path)
    out = run_probe(alembic_python, tmp_path, "origin.py", ORIGIN, pg_server.url(new_db()))
    plain = out["plain_not_lean"]
    assert out["origin"]["active"] and not out["plain"]["active"] and not out["unsupported"]["active"]
    for name in ("origin", "plain", "origin_not_lean", "unsupported"):
        assert (out[name]["up"], out[name]["down"]) == (plain["up"], plain["down"]), name
    assert "op.create_index('ix_post_title_lower', 'post', [sa.literal_column('lower(title)')], unique=False)" in plain["up"]
    assert (out["edited"]["up"], out["edited"]["down"]) == (out["edited_plain"]["up"], out["edited_plain"]["down"])
    assert "ix_renamed" in out["edited"]["up"]
    # 4 tables and 5 indexes. Plain: each table copied to reverse it and to render it, each index
    # to reverse it and to render its create and its drop. With the origins only the expression
    # index (ix_post_title_lower) is still copied, as often as before.
    assert (plain["table"], plain["index"]) == (8, 15)
    assert (out["origin"]["table"], out["origin"]["index"]) == (0, 3)
    assert out["restored"]


HOOKS = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {pydir!r})
    from alembic.config import Config
    from pgsetup.revision import compile_elsewhere
    cfg = Config(sys.argv[1])
    seen = []
    added = compile_elsewhere(cfg, seen.append)
    names = [h["_hook_name"] for h in cfg.get_hooks_list()] if hasattr(cfg, "get_hooks_list") else None
    print(json.dumps({{"added": added, "names": names}}))
    """
).format(pydir=str(PYDIR))


@pytest.mark.parametrize(
    "ini, expected",
    [
        ("[alembic]\nscript_location = x\n\n[post_write_hooks]\n", ["pgsetup_compile"]),
        ("[alembic]\nscript_location = x\n\n[post_write_hooks]\nhooks = black, ruff\nblack.type = console_scripts\nruff.type = exec\n", ["black", "ruff", "pgsetup_compile"]),
        ("[alembic]\nscript_location = x\n", ["pgsetup_compile"]),
    ],
    ids=["empty-section", "project-hooks-first", "no-section"],
)
def test_the_compile_hook_runs_after_the_projects_own(tmp_path, alembic_python, ini, expected):
    (tmp_path / "alembic.ini").write_text(ini)
    (tmp_path / "hooks.py").write_text(HOOKS)
    r = subprocess.run([alembic_python, "hooks.py", "alembic.ini"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["added"] is True
    if out["names"] is not None:
        assert out["names"] == expected


def test_hooks_configured_in_pyproject_are_left_alone(tmp_path, alembic_python):
    (tmp_path / "alembic.ini").write_text("[alembic]\n")
    (tmp_path / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "x"\n\n[[tool.alembic.post_write_hooks]]\nname = "ruff"\ntype = "exec"\nexecutable = "ruff"\n')
    (tmp_path / "hooks.py").write_text(HOOKS.replace("Config(sys.argv[1])", "Config(sys.argv[1], toml_file='pyproject.toml')"))
    r = subprocess.run([alembic_python, "hooks.py", "alembic.ini"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    if "toml_file" in r.stderr:
        pytest.skip("this Alembic reads no pyproject.toml")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"added": False, "names": ["ruff"]}
