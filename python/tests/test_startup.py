"""create_all reached from start-up (shape 6): lifespans, startup handlers, import time, and calls across modules."""


def write_base(project):
    project.write("db.py", """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import DeclarativeBase
        engine = create_engine("sqlite:///a.db")
        class Base(DeclarativeBase):
            pass
        def create_db_and_tables():
            Base.metadata.create_all(engine)
    """)


def by_file(a):
    return {(c["file"], c.get("isCall", False)): c for c in a["createAll"]}


def test_lifespan_to_startup_in_another_module_to_helper(project):
    write_base(project)
    project.write("events.py", """
        from db import create_db_and_tables
        async def startup():
            create_db_and_tables()
    """)
    project.write("main.py", """
        from contextlib import asynccontextmanager
        from fastapi import FastAPI
        from events import startup
        @asynccontextmanager
        async def lifespan(app):
            await startup()
            yield
        app = FastAPI(lifespan=lifespan)
    """)
    [c] = project.analyze()["createAll"]
    assert c["file"] == "db.py" and c["function"] == "create_db_and_tables"
    assert c["inStartup"] is True and c["remove"] is True


def test_a_helper_a_script_also_calls_is_kept_and_its_start_up_call_goes(project):
    write_base(project)
    project.write("main.py", """
        from fastapi import FastAPI
        from db import create_db_and_tables
        app = FastAPI()
        @app.on_event("startup")
        def on_startup():
            create_db_and_tables()
    """)
    project.write("manage.py", """
        import db
        if __name__ == "__main__":
            db.create_db_and_tables()
    """)
    found = by_file(project.analyze())
    helper = found[("db.py", False)]
    assert helper["inStartup"] is True and helper["remove"] is False
    assert helper["keptFor"] == ["manage.py:3"]
    call = found[("main.py", True)]
    assert call["function"] == "on_startup" and call["text"] == "create_db_and_tables()"
    assert call["leavesEmptyBody"] is True
    assert call["unusedImports"][0]["names"] == ["create_db_and_tables"]


def test_create_all_at_import_of_a_module_the_app_imports(project):
    write_base(project)
    project.write("main.py", """
        from fastapi import FastAPI
        import models
        app = FastAPI()
    """)
    project.write("models.py", """
        from db import Base, engine
        Base.metadata.create_all(bind=engine)
    """)
    project.write("seed.py", """
        from db import Base, engine
        Base.metadata.create_all(bind=engine)
    """)
    found = {c["file"]: c for c in project.analyze()["createAll"] if c["function"] is None}
    assert found["models.py"]["inStartup"] is True
    # A script the app never imports is not start-up code.
    assert found["seed.py"]["inStartup"] is False


def test_the_main_guard_is_not_start_up(project):
    write_base(project)
    project.write("main.py", """
        from fastapi import FastAPI
        from db import Base, engine
        app = FastAPI()
        if __name__ == "__main__":
            Base.metadata.create_all(engine)
    """)
    found = [c for c in project.analyze()["createAll"] if c["file"] == "main.py"]
    assert [c["inStartup"] for c in found] == [False]


def test_a_helper_nobody_starts_is_left_alone(project):
    write_base(project)
    project.write("main.py", """
        from fastapi import FastAPI
        app = FastAPI()
    """)
    [c] = project.analyze()["createAll"]
    assert c["inStartup"] is False


def test_asgi_app_found(project):
    write_base(project)
    project.write("app/__init__.py", "")
    project.write("app/main.py", """
        from fastapi import FastAPI
        api = FastAPI()
    """)
    assert project.analyze()["asgi"] == {"module": "app.main", "name": "api", "file": "app/main.py"}
