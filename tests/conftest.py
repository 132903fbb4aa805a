"""Shared fixtures. The library lives in workflow/scripts/ (where Snakemake's scripts import it from)."""

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))
sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture
def repo() -> Path:
    return REPO


SMOKE_TIMEOUT_S = 1200


WORKFLOW_FILES = ("Snakefile", "config.yaml", "workflow", "envs", "profiles", "tests/smoke.yaml")


def copy_workflow(target: Path) -> Path:
    """A copy of the workflow's own files (no .venv, results or resources), for tests that edit its code."""
    import shutil

    for name in WORKFLOW_FILES:
        source, destination = REPO / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination)
    return target


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = SMOKE_TIMEOUT_S, workflow: Path = REPO):
    """Run ``workflow``'s Snakefile in ``workdir`` with its config.yaml + tests/smoke.yaml; return the result."""
    import subprocess

    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(workflow / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workflow / "config.yaml"),
        str(workflow / "tests" / "smoke.yaml"),
        "--cores",
        "2",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


@dataclass
class SmokeRun:
    workdir: Path  # where results/, resources/ and logs/ are
    workflow: Path  # the copy of the workflow that made them (tests may edit its code)


@pytest.fixture(scope="session")
def smoke_run_copy(tmp_path_factory) -> SmokeRun:
    """The smoke run, made by a copy of the workflow, so that a test can edit that copy's code afterwards."""
    from make_inputs import write_smoke_inputs

    workflow = copy_workflow(tmp_path_factory.mktemp("workflow"))
    workdir = tmp_path_factory.mktemp("smoke")
    write_smoke_inputs(workdir)
    run_snakemake(workdir, workflow=workflow)
    return SmokeRun(workdir, workflow)


@pytest.fixture(scope="session")
def smoke_run(smoke_run_copy) -> Path:
    """The whole pipeline run once on the smoke config and made-up inputs; returns its working directory."""
    return smoke_run_copy.workdir


def linked_copy(source: Path, target: Path) -> Path:
    """A copy of the tree ``source`` whose files are hard links to the originals: cheap, and safe for a test that
    replaces a file (a new file, or the pipeline's write-and-rename) but never for one that edits it in place."""
    import os
    import shutil

    shutil.copytree(source, target, copy_function=os.link, ignore=shutil.ignore_patterns(".snakemake"))
    return target


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test, the thread count restored after it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """A made-up CIFAR-like npz of 320 images, enough for a few short training runs."""
    from make_inputs import synthetic_cifar, write_npz

    X, y = synthetic_cifar(320, seed=3)
    return write_npz(tmp_path_factory.mktemp("data") / "cifar10.npz", X, y)
