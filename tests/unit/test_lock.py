"""The lock (requirements.txt) is universal and made by a locking tool; the conda env file agrees with it."""

import re

import pytest
import yaml
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK_COMMAND = "uv pip compile --universal --python-version 3.11 requirements.in -o requirements.txt"
# Packages that exist only for Linux (GPU runtime libraries and torch's compiler).
LINUX_ONLY = re.compile(r"^(nvidia-|cuda-|triton$)")
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
}
PYTHON = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def requirement_lines(path):
    """The requirement lines of a requirements file, without comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def lock():
    return requirement_lines(REPO / "requirements.txt")


def pinned_version(requirement):
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned"
    return specifier.version


def installed_on(platform):
    environment = PYTHON | PLATFORMS[platform]
    return {canonicalize_name(r.name) for r in lock() if r.marker is None or r.marker.evaluate(environment)}


def test_the_lock_says_how_it_was_made():
    header = REPO.joinpath("requirements.txt").read_text().split("\n", 3)[:2]
    assert LOCK_COMMAND in header[1], header


def test_every_direct_dependency_is_pinned_in_the_lock_and_torch_stays_where_it_is():
    locked = {canonicalize_name(r.name): pinned_version(r) for r in lock()}
    for direct in requirement_lines(REPO / "requirements.in"):
        assert canonicalize_name(direct.name) in locked, f"{direct.name} is missing from requirements.txt"
        assert direct.specifier.contains(locked[canonicalize_name(direct.name)])
    assert (locked["torch"], locked["torchvision"]) == ("2.14.1", "0.29.1")


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_gets_the_pipeline_and_only_linux_gets_linux_only_packages(platform):
    packages = installed_on(platform)
    assert {"torch", "torchvision", "snakemake", "numpy", "pandas", "seaborn", "pytest"} <= packages
    linux_only = {name for name in packages if LINUX_ONLY.match(name)}
    if platform.startswith("linux"):
        assert {"nvidia-cudnn-cu13", "cuda-toolkit"} <= linux_only
    else:
        assert not linux_only, f"Linux-only packages installed on {platform}: {sorted(linux_only)}"


def test_the_conda_env_pins_the_locks_versions():
    locked = {canonicalize_name(r.name): pinned_version(r) for r in lock()}
    env = yaml.safe_load((REPO / "envs" / "torchbasics.yaml").read_text())
    (pip_section,) = [entry["pip"] for entry in env["dependencies"] if isinstance(entry, dict)]
    for line in pip_section:
        requirement = Requirement(line)
        assert pinned_version(requirement) == locked[canonicalize_name(requirement.name)], line
    assert {"snakemake", "snakemake-executor-plugin-slurm", "torch", "torchvision"} <= {
        canonicalize_name(Requirement(line).name) for line in pip_section
    }
