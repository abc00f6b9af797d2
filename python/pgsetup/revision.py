"""Alembic's `revision --autogenerate` with less held in memory at once; the file is the same.

Two things, each with a fallback to Alembic's plain behaviour:
- lean_downgrades(): autogenerate builds the downgrade ops eagerly, by reversing every upgrade
  op. Reversing a CreateTableOp (and a CreateIndexOp) copies its table (Alembic's to_table(),
  with a stand-in for every table a foreign key points to) and keeps that copy inside the
  resulting drop op, as `_reverse`, only for reversing it once more. At 500 models those copies
  are 41 MiB that live until the revision is written. Here each reversed op keeps the upgrade op
  it came from instead, which holds the same columns and constraints (the copy was made from
  them): the copy is garbage at once. The drop ops render from their own name, table, schema and
  keyword arguments, which are unchanged, so the text is the same.
- origin_objects(): autogenerate's create ops for new tables and indexes are made from the
  app's own Table and Index objects (from_table / from_index), and everything after that asks
  them for a table or an index again with to_table() / to_index(), which builds a fresh copy
  each time: reversing the ops for the downgrade, then rendering the upgrade and the downgrade.
  At 500 models that is 500 tables and 4,500 indexes copied only to be read and dropped, most
  of rendering's time. Here such an op, while it still holds exactly what it was made from,
  answers with that object itself. The renderers read the same names, columns, types,
  constraints and keyword arguments from it (the copy was made from them), so the text is the
  same; the upgrade, which builds its own ops from the revision file, is not touched.
- compile_elsewhere(cfg, compile): a post-write hook (Alembic's public write_hooks), last after
  any the project configured, hands the new file to `compile` (python/pgsetup/compile_aside.py)
  before Alembic loads it, so that the load reads the bytecode instead of compiling 650 KB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from alembic.config import Config
from alembic.operations import ops
from alembic.script import write_hooks
from sqlalchemy import Column

HOOK = "pgsetup_compile"


def _keep_origin(drop_type, create_type, original):
    def reverse(self):
        drop = original(self)
        # Only when it is exactly what Alembic made: a drop op of that class whose `_reverse`
        # is a create op for the same object. Anything else is left as Alembic built it.
        back = getattr(drop, "_reverse", None)
        if type(drop) is drop_type and type(back) is create_type and type(self) is create_type:
            drop._reverse = self
        return drop

    reverse.__wrapped__ = original
    return reverse


def lean_reverse_supported() -> bool:
    """The ops this relies on are there, with a `_reverse` on the drop ops."""
    try:
        return all(
            callable(getattr(c, "reverse", None))
            for c in (ops.CreateTableOp, ops.DropTableOp, ops.CreateIndexOp, ops.DropIndexOp)
        ) and "_reverse" in ops.DropTableOp.__init__.__code__.co_varnames and "_reverse" in ops.DropIndexOp.__init__.__code__.co_varnames
    except AttributeError:
        return False


@contextmanager
def lean_downgrades(enabled: bool = True) -> Iterator[bool]:
    """While open, reversed create ops keep their origin instead of a copy (see above).
    Yields whether that is in effect."""
    if not (enabled and lean_reverse_supported()):
        yield False
        return
    saved = (ops.CreateTableOp.__dict__.get("reverse"), ops.CreateIndexOp.__dict__.get("reverse"))
    ops.CreateTableOp.reverse = _keep_origin(ops.DropTableOp, ops.CreateTableOp, ops.CreateTableOp.reverse)
    ops.CreateIndexOp.reverse = _keep_origin(ops.DropIndexOp, ops.CreateIndexOp, ops.CreateIndexOp.reverse)
    try:
        yield True
    finally:
        for cls, original in zip((ops.CreateTableOp, ops.CreateIndexOp), saved):
            if original is None:
                del cls.reverse
            else:
                cls.reverse = original


_ORIGIN = "_pgsetup_origin"


def _table_origin(op):
    """The Table a CreateTableOp was made from, while the op still holds exactly that."""
    origin = op.__dict__.get(_ORIGIN)
    if origin is None or type(op) is not ops.CreateTableOp:
        return None
    table, columns = origin
    same = (
        op._constraints_included is True
        and op.if_not_exists is None
        and op.table_name == table.name
        and op.schema == table.schema
        and len(op.columns) == len(columns)
        and all(a is b for a, b in zip(op.columns, columns))
        and op.comment == table.comment
        and op.info == table.info
        and list(op.prefixes or []) == list(table._prefixes)
        and op.kw == dict(table.kwargs)
    )
    return table if same else None


def _index_origin(op):
    """The Index a CreateIndexOp was made from, while the op still holds exactly that. Only
    indexes on plain columns of their table (an expression is copied, and rendered from the
    copy, as Alembic does)."""
    origin = op.__dict__.get(_ORIGIN)
    if origin is None or type(op) is not ops.CreateIndexOp:
        return None
    index, columns = origin
    table = index.table
    same = (
        table is not None
        and op.if_not_exists is None
        and op.index_name == index.name
        and op.table_name == table.name
        and op.schema == table.schema
        and op.unique == index.unique
        and op.kw == dict(index.kwargs)
        and len(op.columns) == len(columns)
        and all(a is b and isinstance(a, Column) and a.table is table for a, b in zip(op.columns, columns))
    )
    return index if same else None


def _dropped_index_origin(op):
    """For a DropIndexOp whose `_reverse` is a create op still holding its Index: that Index,
    when the drop op names the same index with the same keyword arguments."""
    if type(op) is not ops.DropIndexOp:
        return None
    back = getattr(op, "_reverse", None)
    index = _index_origin(back) if back is not None else None
    if index is None or op.if_exists is not None:
        return None
    kw = dict(op.kw)
    unique = kw.pop("unique", False)
    same = op.index_name == index.name and op.table_name == index.table.name and op.schema == index.table.schema and unique == index.unique and kw == dict(index.kwargs)
    return index if same else None


def origin_objects_supported() -> bool:
    """The ops and attributes this relies on are there, as this code knows them."""
    try:
        init = (ops.CreateTableOp.__init__.__code__.co_varnames, ops.CreateIndexOp.__init__.__code__.co_varnames, ops.DropIndexOp.__init__.__code__.co_varnames)
        return (
            all(isinstance(c.__dict__.get(m), classmethod) for c, m in ((ops.CreateTableOp, "from_table"), (ops.CreateIndexOp, "from_index")))
            and all(callable(c.__dict__.get(m)) for c, m in ((ops.CreateTableOp, "to_table"), (ops.CreateIndexOp, "to_index"), (ops.DropIndexOp, "to_index")))
            and {"_namespace_metadata", "_constraints_included", "if_not_exists"} <= set(init[0])
            and "if_not_exists" in init[1]
            and {"_reverse", "if_exists"} <= set(init[2])
        )
    except AttributeError:
        return False


@contextmanager
def origin_objects(enabled: bool = True) -> Iterator[bool]:
    """While open, create ops made from the app's tables and indexes give those back instead of
    copies when asked without a migration context (see above). Yields whether that is in effect."""
    if not (enabled and origin_objects_supported()):
        yield False
        return
    saved = {
        (ops.CreateTableOp, "from_table"): ops.CreateTableOp.__dict__["from_table"],
        (ops.CreateIndexOp, "from_index"): ops.CreateIndexOp.__dict__["from_index"],
        (ops.CreateTableOp, "to_table"): ops.CreateTableOp.__dict__["to_table"],
        (ops.CreateIndexOp, "to_index"): ops.CreateIndexOp.__dict__["to_index"],
        (ops.DropIndexOp, "to_index"): ops.DropIndexOp.__dict__["to_index"],
    }
    from_table = saved[(ops.CreateTableOp, "from_table")].__func__
    from_index = saved[(ops.CreateIndexOp, "from_index")].__func__

    def remember(made):
        def make(cls, obj, *args, **kw):
            op = made(cls, obj, *args, **kw)
            if type(op) is cls:
                op.__dict__[_ORIGIN] = (obj, tuple(op.columns))
            return op

        make.__wrapped__ = made
        return classmethod(make)

    def answer(origin_of, original):
        def to_object(self, migration_context=None):
            if migration_context is None:
                obj = origin_of(self)
                if obj is not None:
                    return obj
            return original(self, migration_context)

        to_object.__wrapped__ = original
        return to_object

    ops.CreateTableOp.from_table = remember(from_table)
    ops.CreateIndexOp.from_index = remember(from_index)
    ops.CreateTableOp.to_table = answer(_table_origin, saved[(ops.CreateTableOp, "to_table")])
    ops.CreateIndexOp.to_index = answer(_index_origin, saved[(ops.CreateIndexOp, "to_index")])
    ops.DropIndexOp.to_index = answer(_dropped_index_origin, saved[(ops.DropIndexOp, "to_index")])
    try:
        yield True
    finally:
        for (cls, name), original in saved.items():
            setattr(cls, name, original)


def compile_elsewhere(cfg: Config, compile: Callable[[str], bool]) -> bool:
    """Add the hook that hands each new revision file to `compile` before Alembic loads it.

    The hooks of alembic.ini's [post_write_hooks] run first, as configured. When the project
    configures its hooks in pyproject.toml instead, an ini section would hide them: nothing is
    added then (False) and Alembic compiles the file as always.
    """
    fc = cfg.file_config
    if not fc.has_section("post_write_hooks"):
        get_hooks = getattr(cfg, "get_hooks_list", None)
        if get_hooks is not None and get_hooks():
            return False
        existing = ""
    else:
        existing = fc.get("post_write_hooks", "hooks", raw=True, fallback="").strip()

    @write_hooks.register(HOOK)
    def _hook(path, _options):
        compile(path)

    names = f"{existing}, {HOOK}" if existing else HOOK
    cfg.set_section_option("post_write_hooks", "hooks", names)
    cfg.set_section_option("post_write_hooks", f"{HOOK}.type", HOOK)
    return True
