"""src/ layouts (shape 5), sync engines (shape 3) and SQLModel (shape 4): module names follow the start command."""


def test_src_package_started_with_app_dir_src(project):
    project.write("src/shop/__init__.py", "")
    project.write("src/shop/db.py", """
        from sqlalchemy.orm import DeclarativeBase
        class Base(DeclarativeBase):
            pass
    """)
    project.write("src/shop/main.py", """
        from fastapi import FastAPI
        from shop.db import Base
        app = FastAPI()
    """)
    a = project.analyze()
    assert a["importRoot"] == "src"
    assert a["base"]["module"] == "shop.db"
    assert a["asgi"]["module"] == "shop.main"


def test_plain_src_folder_started_as_src_main(project):
    project.write("src/db.py", """
        from sqlalchemy.orm import DeclarativeBase
        class Base(DeclarativeBase):
            pass
    """)
    project.write("src/main.py", """
        from fastapi import FastAPI
        from src.db import Base
        app = FastAPI()
    """)
    a = project.analyze()
    assert a["importRoot"] == "."
    assert a["base"]["module"] == "src.db"
    assert a["asgi"]["module"] == "src.main"


def test_sync_engine_and_sqlmodel_base(project):
    project.write("database.py", """
        from sqlmodel import SQLModel, create_engine
        engine = create_engine("sqlite:///database.db", connect_args={"check_same_thread": False})
    """)
    project.write("models.py", """
        from sqlmodel import Field, SQLModel
        class HeroBase(SQLModel):
            name: str
        class Hero(HeroBase, table=True):
            id: int | None = Field(default=None, primary_key=True)
    """)
    a = project.analyze()
    assert [e["func"] for e in a["engines"]] == ["create_engine"]
    assert a["base"]["kind"] == "sqlmodel"
    assert [c["name"] for c in a["models"]["classes"]] == ["Hero"]
