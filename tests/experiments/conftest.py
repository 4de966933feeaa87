"""Fixtures of the experiment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from exp_helpers import TINY


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path
