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
