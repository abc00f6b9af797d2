"""Issue 13: edits look hand-made. Imports go into their section; removals leave no orphans."""

import ast
import textwrap

from pgsetup.imports import place_import
from pgsetup.layout import removal_range
from pgsetup.source import Module


def module(text: str, name: str = "m") -> Module:
    source = textwrap.dedent(text).lstrip("\n")
    return Module(name, f"{name}.py", source, ast.parse(source))


def test_a_first_party_import_gets_its_own_section_after_third_party():
    m = module("""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import DeclarativeBase

        X = 1
    """)
    assert place_import(m, "from config import settings", {"config"}) == {"after": 2, "text": "\nfrom config import settings\n"}


def test_a_first_party_import_joins_an_existing_first_party_section_in_order():
    m = module("""
        import os

        from fastapi import FastAPI

        from app.models import Item
        from app.schemas import ItemIn
    """)
    assert place_import(m, "from app.core.config import settings", {"app"}) == {"after": 4, "text": "from app.core.config import settings\n"}
    assert place_import(m, "from app.x import y", {"app"}) == {"after": 6, "text": "from app.x import y\n"}


def test_a_third_party_import_sorts_into_the_third_party_section():
    m = module("""
        import os

        from sqlalchemy import create_engine
    """)
    assert place_import(m, "from dotenv import load_dotenv", set()) == {"after": 2, "text": "from dotenv import load_dotenv\n"}


def test_a_relative_import_goes_after_the_absolute_ones():
    m = module("""
        from fastapi import FastAPI

        from app import models
    """)
    assert place_import(m, "from .config import settings", {"app"}) == {"after": 3, "text": "\nfrom .config import settings\n"}


def test_a_module_without_imports_gets_the_import_after_its_docstring():
    m = module('''
        """Doc."""

        X = 1
    ''')
    assert place_import(m, "from config import settings", {"config"}) == {"after": 1, "text": "\nfrom config import settings\n\n"}


def test_removing_a_constant_takes_one_of_the_blank_lines_around_it():
    m = module("""
        import os

        URL = "sqlite://"

        engine = 1
    """)
    assert removal_range(m, 3, 3) == (3, 4)


def test_a_comment_that_only_described_the_removed_block_goes_with_it():
    m = module("""
        async def lifespan(app):
            # Startup
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            yield
            # Shutdown
            await engine.dispose()
    """)
    assert removal_range(m, 3, 4) == (2, 4)


def test_a_comment_that_also_describes_what_follows_stays():
    m = module("""
        async def lifespan(app):
            # Startup
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            await seed()
            yield
    """)
    assert removal_range(m, 3, 4) == (3, 4)


def test_a_body_left_empty_keeps_the_blank_lines_before_the_next_function():
    m = module("""
        async def init_models():
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)


        async def other():
            pass
    """)
    assert removal_range(m, 2, 3) == (2, 3)


def test_a_commented_out_alternative_below_the_removed_constant_goes_too():
    m = module("""
        from sqlalchemy import create_engine

        URL = "sqlite:///./sql_app.db"
        # URL = "postgresql://user:password@postgresserver/db"

        engine = create_engine(URL)
    """)
    assert removal_range(m, 3, 3) == (3, 5)


def test_a_comment_below_that_introduces_the_next_statement_stays():
    m = module("""
        URL = "sqlite://"
        # the engine
        engine = 1
    """)
    assert removal_range(m, 1, 1) == (1, 1)
