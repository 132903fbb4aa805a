"""Shared fixtures. The library lives in workflow/scripts/ (where Snakemake's scripts import it from)."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))
sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture
def repo() -> Path:
    return REPO
