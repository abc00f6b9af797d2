"""The tutorial's own shape: pydantic Settings with env_file, async engine, create_all in the lifespan."""

import json


def write_tutorial(project):
    project.write("pyproject.toml", """
        [project]
        name = "blog"
        version = "0.1.0"
        dependencies = ["fastapi", "sqlalchemy[asyncio]", "aiosqlite", "pydantic-settings"]
    """)
    project.write("config.py", """
        from pydantic_settings import BaseSettings, SettingsConfigDict


        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env")
            database_url: str = "sqlite+aiosqlite:///./blog.db"


        settings = Settings()
    """)
    project.write("database.py", """
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.orm import DeclarativeBase

        from config import settings

        engine = create_async_engine(settings.database_url, connect_args={"check_same_thread": False})


        class Base(DeclarativeBase):
            pass
    """)
    project.write("models.py", """
        from sqlalchemy.orm import Mapped, mapped_column

        from database import Base


        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
    """)
    project.write("main.py", """
        from contextlib import asynccontextmanager

        from fastapi import FastAPI

        from database import Base, engine


        @asynccontextmanager
        async def lifespan(app):
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            yield
            await engine.dispose()


        app = FastAPI(lifespan=lifespan)
    """)


def test_settings_instance_url_field_and_env_key(project):
    write_tutorial(project)
    a = project.analyze()
    s = a["settings"]
    assert s["instance"] == {"module": "config", "name": "settings", "call": False}
    assert s["urlField"]["name"] == "database_url"
    assert s["urlField"]["envKey"] == "DATABASE_URL"
    assert s["urlField"]["defaultIsSqlite"] is True


def test_base_models_and_engine(project):
    write_tutorial(project)
    a = project.analyze()
    assert a["base"]["module"] == "database" and a["base"]["name"] == "Base"
    assert a["models"]["modules"] == ["models"]
    assert [c["table"] for c in a["models"]["classes"]] == ["users"]
    [engine] = a["engines"]
    assert engine["func"] == "create_async_engine"
    assert engine["url"]["text"] == "settings.database_url"
    assert engine["settingsLocal"] == "settings"


def test_create_all_in_the_lifespan_is_start_up_code(project):
    write_tutorial(project)
    [c] = project.analyze()["createAll"]
    assert c["file"] == "main.py"
    assert c["function"] == "lifespan"
    assert c["inStartup"] is True
    # The `async with engine.begin()` that only wraps it goes too.
    assert c["text"].startswith("async with engine.begin()")


def test_sqlite_file_and_manager(project):
    write_tutorial(project)
    a = project.analyze()
    assert [s["path"].endswith("blog.db") for s in a["sqlite"]] == [True]
    assert a["manager"]["kind"] == "uv"
    assert {"name": "aiosqlite", "extras": []} in a["manager"]["dependencies"]
    assert a["isSqlalchemy"] is True


def test_the_sqlite_file_rows_are_counted_without_changing_it(project):
    import sqlite3

    write_tutorial(project)
    assert project.analyze()["sqlite"][0]["rows"] is None  # no file yet
    db = project.root / "blog.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY); INSERT INTO users VALUES (1), (2); CREATE TABLE posts (id INTEGER PRIMARY KEY);")
    con.close()
    before = db.read_bytes()
    assert project.analyze()["sqlite"][0]["rows"] == 2
    assert db.read_bytes() == before
    db.write_bytes(b"not a database")
    assert project.analyze()["sqlite"][0]["rows"] is None


def test_a_file_that_does_not_parse_is_reported_not_fatal(project):
    write_tutorial(project)
    project.write("broken.py", "def (:\n")
    a = project.analyze()
    assert [e["file"] for e in a["parseErrors"]] == ["broken.py"]
    assert a["settings"]["className"] == "Settings"


def test_alembic_files_change_only_the_alembic_part(project, capsys):
    """What pg-setup's scaffold writes (alembic.ini, alembic/env.py, a revision) is read by the
    Alembic pass alone: the full analysis differs from the one before only there, and
    `--alembic-only` reports that part the same."""
    from pgsetup.analyze import main

    write_tutorial(project)
    before = project.analyze()
    project.write("alembic.ini", """
        [alembic]
        script_location = %(here)s/alembic
    """)
    project.write("alembic/env.py", """
        from alembic import context
        from sqlalchemy.ext.asyncio import async_engine_from_config

        from config import settings
        from database import Base

        config = context.config
        config.set_main_option("sqlalchemy.url", settings.database_url)
        target_metadata = Base.metadata
    """)
    project.write("alembic/versions/0001_initial.py", """
        revision = "0001"
        down_revision = None
    """)
    after = project.analyze()
    assert {k for k in after if after[k] != before[k]} == {"alembic"}
    assert after["alembic"]["heads"] == ["0001"]
    main([str(project.root), "--alembic-only"])
    assert json.loads(capsys.readouterr().out) == {"alembic": after["alembic"]}
