"""The README's commands work as written: its snakemake invocations dry-run, `make run` builds one of them.

Commands are read from the README's ```sh blocks. Installs, the test suite itself, benchmarks and commands that
need a finished run (--report), a killed one (--unlock, run by test_config_reliability.py) or a SLURM cluster
(--profile profiles/slurm, covered by tests/cluster/run.sh) are not run here.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, copy_workflow
from launch import snakemake

FENCED_SH = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Where the README's smoke run writes; the tests use their own folder instead.
README_SMOKE_DIR = "/tmp/smoke"
# --unlock has no dry run: tests/workflow/test_config_reliability.py runs it after a killed run.
NEEDS_MORE_THAN_A_DRY_RUN = {"--report", "--profile", "--unlock"}


def readme_commands(readme: str) -> list[list[str]]:
    """Every command of the README's sh blocks as its words (continued lines joined, comments dropped)."""
    commands = []
    for block in FENCED_SH.findall(readme):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                commands.append(words[:end])
                words = words[end + 1 :]
    return commands


def is_snakemake(words):
    return Path(words[0]).name == "snakemake"


def dry_runnable(words):
    return is_snakemake(words) and not NEEDS_MORE_THAN_A_DRY_RUN & set(words)


COMMANDS = readme_commands((REPO / "README.md").read_text())
SNAKEMAKE_COMMANDS = [words for words in COMMANDS if dry_runnable(words)]
MAKE_RUN_COMMANDS = [words for words in COMMANDS if words[:2] == ["make", "run"]]


def test_the_readme_has_the_commands_this_test_checks():
    assert len(SNAKEMAKE_COMMANDS) >= 5 and MAKE_RUN_COMMANDS
    assert any(words[1:2] == ["tests/make_inputs.py"] for words in COMMANDS)


def in_test_folders(words, tmp_path):
    """The command with the README's smoke folder replaced by the test's, and local sources by placeholders.

    A dry run only checks that a configured source exists, so an empty file in the test's folder stands in for
    it (the README's examples name files on the user's machine).
    """
    words = [word.replace(README_SMOKE_DIR, str(tmp_path / "smoke")) for word in words]
    for source in re.findall(r"source: ([^,}\s]+)", " ".join(words)):
        if "://" in source:
            continue
        placeholder = tmp_path / "sources" / Path(source).name
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.touch()
        words = [word.replace(source, str(placeholder)) for word in words]
    return words


def dry_run(words, workdir):
    return snakemake(*words[1:], "--dry-run", cwd=workdir, timeout=300)


@pytest.fixture(scope="module")
def readme_folders(tmp_path_factory):
    """The test's stand-in for the README's folders, and a copy of the workflow to run in (its .snakemake/ and any
    outputs stay out of the repository); dry runs change neither, so the module's tests share them."""
    from make_inputs import write_smoke_inputs

    folders = tmp_path_factory.mktemp("readme")
    write_smoke_inputs(folders / "smoke")  # what `python tests/make_inputs.py /tmp/smoke` writes
    return folders, copy_workflow(folders / "work" / "main")


@pytest.mark.parametrize("words", sorted(set(map(tuple, SNAKEMAKE_COMMANDS))), ids=shlex.join)
def test_a_readme_snakemake_command_dry_runs(words, readme_folders):
    folders, workflow_copy = readme_folders
    result = dry_run(in_test_folders(list(words), folders), workflow_copy)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "This was a dry-run" in result.stdout + result.stderr


def test_the_readme_smoke_inputs_command_writes_what_the_smoke_config_reads(tmp_path):
    (words,) = [words for words in COMMANDS if words[1:2] == ["tests/make_inputs.py"]]
    command = [sys.executable, *in_test_folders(words, tmp_path)[1:]]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=300)
    assert (tmp_path / "smoke" / "smoke-data" / "cifar10.npz").is_file()


@pytest.mark.parametrize("words", MAKE_RUN_COMMANDS + [["make", "run", "ARGS=denoise"]], ids=shlex.join)
def test_make_run_passes_its_arguments_to_snakemake(words, readme_folders):
    installed = ".venv/bin/.installed"  # taken as up to date: this checks the command, not the install
    plan = subprocess.run(
        ["make", "--dry-run", "--old-file", installed, *words[1:]], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    (snakemake_line,) = [line for line in plan.splitlines() if "snakemake" in line]
    snakemake_words = shlex.split(snakemake_line)
    arguments = [word.split("=", 1)[1] for word in words if word.startswith("ARGS=")]
    assert snakemake_words[len(snakemake_words) - len(arguments) :] == arguments
    result = dry_run(snakemake_words, readme_folders[1])
    assert result.returncode == 0, result.stderr[-4000:]


INLINE_SNAKEMAKE = re.compile(r"`((?:\.venv/bin/)?snakemake [^`]*)`")


def test_every_option_of_an_inline_snakemake_command_exists():
    readme = (REPO / "README.md").read_text()
    options = {
        word.split("=", 1)[0]
        for span in INLINE_SNAKEMAKE.findall(readme)
        for word in span.split()
        if word.startswith("-")
    }
    assert "--sdm" in options
    help_text = snakemake("--help", cwd=REPO, timeout=300).stdout
    unknown = {
        option
        for option in options
        if not re.search(rf"(^|[\s,\[]){re.escape(option)}([\s,=\]]|$)", help_text, re.MULTILINE)
    }
    assert not unknown, f"options snakemake does not have: {sorted(unknown)}"
