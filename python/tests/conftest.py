"""Each test writes a small project of real code shapes into a temp folder and analyzes it."""

from __future__ import annotations

import sys
import textwrap
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
