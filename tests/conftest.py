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


SMOKE_TIMEOUT_S = 1200


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = SMOKE_TIMEOUT_S):
    """Run the repository's Snakefile in ``workdir`` with config.yaml + tests/smoke.yaml, return the result."""
    import subprocess

    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
               str(workdir), "--configfile", str(REPO / "config.yaml"), str(REPO / "tests" / "smoke.yaml"),
               "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The whole pipeline run once on the smoke config and made-up inputs; returns its working directory."""
    from make_inputs import write_smoke_inputs

    workdir = tmp_path_factory.mktemp("smoke")
    write_smoke_inputs(workdir)
    run_snakemake(workdir)
    return workdir
