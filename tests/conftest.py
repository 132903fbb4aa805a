"""Shared fixtures, and the two tiers: tests/unit/ (the library, in this process only) and tests/workflow/ (anything
that starts Snakemake or another process, marked ``workflow``). The library lives in workflow/scripts/, where
Snakemake's scripts import it from."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))
sys.path.insert(0, str(REPO / "tests"))


UNIT_TIER, WORKFLOW_TIER = REPO / "tests" / "unit", REPO / "tests" / "workflow"


def pytest_collection_modifyitems(items):
    for item in items:
        if WORKFLOW_TIER in item.path.parents:
            item.add_marker(pytest.mark.workflow)


def refuse_a_process(*args, **kwargs):
    raise AssertionError("a unit test started a process: it belongs in tests/workflow/ (or is marked slow)")


@pytest.fixture(autouse=True)
def unit_tests_start_no_process(request, monkeypatch):
    """What keeps the unit tier fast and independent: a test in tests/unit/ that starts a process fails. A test marked
    ``slow`` may (torch.compile runs the C++ compiler)."""
    if UNIT_TIER in request.node.path.parents and not request.node.get_closest_marker("slow"):
        import torch  # noqa: F401 - its first import runs ldconfig (to find CUDA's libraries): not the test's doing

        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            monkeypatch.setattr(os, name, refuse_a_process)
        monkeypatch.setattr(subprocess.Popen, "__init__", refuse_a_process)


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


def run_snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    timeout: int = SMOKE_TIMEOUT_S,
    workflow: Path = REPO,
    configfiles: tuple[str, ...] = ("config.yaml", "tests/smoke.yaml"),
    env: dict[str, str] | None = None,
):
    """Run ``workflow``'s Snakefile in ``workdir`` with its ``configfiles`` (by default config.yaml + the smoke
    config) on two cores; return the result. Through ``launch``, as every Snakemake run of the tests."""
    from launch import snakemake

    configs = ("--configfile", *(str(workflow / name) for name in configfiles)) if configfiles else ()
    options = ("--snakefile", str(workflow / "Snakefile"), "--directory", str(workdir), *configs, "--cores", "2")
    result = snakemake(*options, *args, cwd=workdir, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


def planned_rules(output: str) -> list[str]:
    """The rule of every job a Snakemake log lists (a dry run's stdout, a real run's stderr), in its order."""
    import re

    return re.findall(r"^(?:local)?rule (\w+):", output, flags=re.MULTILINE)


@dataclass
class SmokeRun:
    workdir: Path  # where results/, resources/ and logs/ are
    workflow: Path  # the copy of the workflow that made them


SMOKE_TREE = ("results", "resources", "logs", "smoke-data")


def fingerprint(run: SmokeRun) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file of the run and of its workflow."""
    files = [path for name in SMOKE_TREE for path in (run.workdir / name).rglob("*")]
    files += [path for name in WORKFLOW_FILES for path in (run.workflow / name).rglob("*")]
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns) for path in files if path.is_file()}


def session_folder(tmp_path_factory) -> Path:
    """A folder of this test session, shared by its pytest-xdist workers where it has them."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The whole pipeline run once on the smoke config and made-up inputs, by a copy of the workflow.

    Made once per session (the first worker to need it makes it, the others wait for it) and shared by every test,
    so it is read-only: a test that runs jobs in it takes ``own_smoke_run``. A test that changed it fails the
    session at the end, naming the files.
    """
    import fcntl
    import shutil

    from make_inputs import write_smoke_inputs

    folder = session_folder(tmp_path_factory) / "smoke-run"
    run = SmokeRun(folder / "smoke", folder / "workflow")
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "complete").exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a worker whose run failed left
            copy_workflow(run.workflow)
            write_smoke_inputs(run.workdir)
            run_snakemake(run.workdir, workflow=run.workflow)
            (folder / "complete").touch()
    before = fingerprint(run)
    yield run
    after = fingerprint(run)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"a test changed the shared smoke run: {changed[:10]}"


@pytest.fixture(scope="session")
def smoke_run(smoke) -> Path:
    """The shared smoke run's working directory (read-only)."""
    return smoke.workdir


def linked_copy(source: Path, target: Path) -> Path:
    """A copy of the run in ``source`` that a test may change: results and inputs as hard links (cheap; every
    writer of the pipeline, Snakemake's deletion of outputs before a job included, replaces a file rather than
    editing it, which leaves the original alone), the logs and Snakemake's records (written in place) as copies."""
    import shutil

    for name in ("results", "resources", "smoke-data"):
        shutil.copytree(source / name, target / name, copy_function=os.link)
    for name in ("logs", ".snakemake/metadata"):
        shutil.copytree(source / name, target / name)
    return target


# For a copy of the workflow run on results another copy made: Snakemake records each job's input files by their
# paths, the library's code among them, so every job that reads code would count as changed by the move alone. Every
# other trigger stays (a changed file's modification time, params, the rule's code, the software environment).
MOVED_WORKFLOW_TRIGGERS = ("--rerun-triggers", "mtime", "params", "code", "software-env")


@pytest.fixture
def own_smoke_run(smoke, tmp_path) -> SmokeRun:
    """A private copy of the finished smoke run (made by the same workflow), for a test that runs jobs in it."""
    return SmokeRun(linked_copy(smoke.workdir, tmp_path / "smoke"), smoke.workflow)


@pytest.fixture
def restore_root_logging():
    """run_script points the root logger at the job's log file; put pytest's handlers back afterwards."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:]
    yield
    for handler in root.handlers:
        if handler not in saved:
            handler.close()
    root.handlers[:] = saved


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


@pytest.fixture(scope="module")
def reference(npz, tmp_path_factory):
    """One uninterrupted short training run (training_runs.SETTINGS), for the others to be compared with."""
    import torch
    from training_runs import train

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("reference")
    train(npz, folder)
    return folder
