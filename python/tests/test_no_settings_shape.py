"""Issue 11 shape 1: no settings class. The URL is a constant, a literal, or read from the environment."""

from pgsetup.source import load_modules
from pgsetup.url_sources import find_url_sources

PYPROJECT = """
    [project]
    name = "app"
    version = "0.1.0"
    dependencies = ["fastapi", "sqlalchemy[asyncio]", "aiosqlite"]
"""


def test_a_url_constant_beside_the_engine_in_a_package(project):
    project.write("pyproject.toml", PYPROJECT)
    project.write("sql_app/__init__.py", "")
    project.write("sql_app/database.py", """
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.orm import declarative_base

        SQLALCHEMY_DATABASE_URL = "sqlite+aiosqlite:///./sql_app.db"

        engine = create_async_engine(SQLALCHEMY_DATABASE_URL, connect_args={"check_same_thread": False})
        Base = declarative_base()
    """)
    project.write("sql_app/models.py", """
        from sqlalchemy import Column, Integer

        from .database import Base


        class Item(Base):
            __tablename__ = "items"
            id = Column(Integer, primary_key=True)
    """)
    a = project.analyze()
    assert a["settings"] is None
    [src] = a["urlSources"]
    assert src["kind"] == "constant" and src["constant"] == "SQLALCHEMY_DATABASE_URL"
    # The package uses relative imports, so the new module is imported the same way.
    assert src["settingsModule"] == {"module": "sql_app.config", "file": "sql_app/config.py", "importLine": "from .config import settings"}
    assert src["settingsImport"] == {"after": 2, "text": "\nfrom .config import settings\n"}
    [engine] = a["engines"]
    # The constant goes with the blank line after it, so no doubled blank line is left.
    assert engine["url"]["constant"]["removeFrom"] == 4 and engine["url"]["constant"]["removeTo"] == 5


def test_a_free_module_name_is_chosen_when_config_py_exists(project):
    project.write("config.py", "DEBUG = True\n")
    project.write("db.py", """
        from sqlalchemy import create_engine

        engine = create_engine("sqlite:///./app.db")
    """)
    [src] = project.analyze()["urlSources"]
    assert src["kind"] == "literal"
    assert src["settingsModule"]["module"] == "settings"


def test_os_getenv_with_a_sqlite_fallback_and_no_load_dotenv(project):
    project.write("database.py", """
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(os.getenv("DATABASE_URL", "sqlite+aiosqlite:///./app.db"))
    """)
    [src] = project.analyze()["urlSources"]
    assert src["kind"] == "environ"
    assert src["environ"]["envKey"] == "DATABASE_URL"
    assert src["environ"]["replacement"] == 'os.environ["DATABASE_URL"]'
    # The dotenv import sorts before sqlalchemy in the third-party section; the call follows the block.
    assert src["dotenvImport"] == {"after": 2, "text": "from dotenv import load_dotenv\n"}
    assert src["dotenvCallAfter"] == 3


def test_os_environ_with_load_dotenv_elsewhere_needs_no_second_call(project):
    project.write("main.py", """
        from dotenv import load_dotenv

        load_dotenv()
    """)
    project.write("database.py", """
        from os import environ

        from sqlalchemy import create_engine

        engine = create_engine(environ["DATABASE_URL"])
    """)
    [src] = project.analyze()["urlSources"]
    assert src["environ"]["sqliteFallback"] is False and src["environ"]["replacement"] is None
    assert src["dotenvImport"] is None and src["dotenvCallAfter"] is None


def test_a_settings_class_leaves_the_url_to_the_settings(project):
    project.write("config.py", """
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            database_url: str = "sqlite:///./app.db"


        settings = Settings()
    """)
    project.write("db.py", """
        from sqlalchemy import create_engine

        from config import settings

        engine = create_engine(settings.database_url)
    """)
    assert project.analyze()["urlSources"] == []


def test_settings_flag_naming_a_url_constant_takes_it_over(project):
    project.write("db.py", """
        from sqlalchemy import create_engine

        DB_URL = "postgresql+psycopg://localhost/dev"
        OTHER = "sqlite:///./other.db"

        engine = create_engine(DB_URL)
        other = create_engine(OTHER)
    """)
    a = project.analyze(settings="db:DB_URL")
    assert a["settings"] is None
    assert [(s["constant"], s["kind"]) for s in a["urlSources"]] == [("DB_URL", "constant")]


def test_modules_load_without_the_project_installed(project):
    project.write("db.py", "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n")
    modules, _ = load_modules(str(project.root))
    assert find_url_sources(modules, str(project.root), None, {})[0]["url"] == "sqlite://"


def test_drop_all_before_create_all_goes_with_it(project):
    project.write("main.py", """
        from fastapi import FastAPI

        from database import Base, engine

        Base.metadata.drop_all(bind=engine)
        Base.metadata.create_all(bind=engine)

        app = FastAPI()
    """)
    project.write("database.py", """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import declarative_base

        engine = create_engine("sqlite:///./app.db")
        Base = declarative_base()
    """)
    [c] = project.analyze()["createAll"]
    assert (c["removeFrom"], c["removeTo"]) == (5, 7)


def test_drop_all_and_create_all_in_one_with_block_go_together(project):
    project.write("main.py", """
        from contextlib import asynccontextmanager

        from database import Base, engine


        @asynccontextmanager
        async def lifespan(app):
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.run_sync(Base.metadata.create_all)
            yield
    """)
    project.write("database.py", """
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.orm import declarative_base

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        Base = declarative_base()
    """)
    [c] = project.analyze()["createAll"]
    assert (c["removeFrom"], c["removeTo"]) == (8, 10)


def test_settings_flag_on_a_rerun_finds_the_settings_that_replaced_the_constant(project):
    project.write("app/__init__.py", "")
    project.write("app/config.py", """
        from pydantic_settings import BaseSettings, SettingsConfigDict


        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env", extra="ignore")

            database_url: str


        settings = Settings()
    """)
    project.write("app/db.py", """
        from sqlalchemy import create_engine

        from .config import settings

        engine = create_engine(settings.database_url)
    """)
    a = project.analyze(settings="app.db:DB_URL")
    assert a["settings"]["instance"] == {"module": "app.config", "name": "settings", "call": False}
    assert project.analyze(settings="app.db:engine")["settings"] is None
