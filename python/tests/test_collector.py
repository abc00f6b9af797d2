"""The garbage collector around importing the app in the migration driver."""

from __future__ import annotations

import gc

import pytest

from pgsetup.collector import YOUNG_THRESHOLD, imported_frozen


@pytest.fixture(autouse=True)
def restore_collector():
    enabled = gc.isenabled()
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_import_runs_with_the_collector_paused_and_what_it_built_is_frozen():
    gc.enable()
    seen = {}

    def load(n):
        seen["enabled"] = gc.isenabled()
        return [{"table": i} for i in range(n)]

    before = gc.get_freeze_count()
    tables = imported_frozen(load, 1000)
    assert seen["enabled"] is False and gc.isenabled()
    assert len(tables) == 1000 and gc.get_freeze_count() >= before + 1000


def test_a_failed_import_turns_the_collector_back_on():
    gc.enable()

    def load():
        raise ImportError("no module named models")

    with pytest.raises(ImportError):
        imported_frozen(load)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    imported_frozen(lambda: None)
    assert not gc.isenabled()


def test_after_the_import_the_young_generation_is_collected_less_often():
    gc.set_threshold(700, 10, 10)
    imported_frozen(lambda: None)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
