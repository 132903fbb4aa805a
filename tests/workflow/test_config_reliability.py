"""Reliability of the config through Snakemake: the page's config block agrees with its sections after a change,
quoted text reaches the pipeline as given, paths Snakemake cannot take are refused with the way round, seeds out of
range are refused at start-up, and a killed run's lock is released as the README says (the config's values
without Snakemake: tests/unit/test_config_values.py)."""

import os
import re
import shutil
import signal
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, planned_rules, run_snakemake
from launch import snakemake, start
from make_inputs import write_smoke_inputs


def output_of(result) -> str:
    return result.stdout + result.stderr


def planned_jobs(result) -> list[str]:
    return planned_rules(result.stdout)


# ------------------------------------------------------ 2. the page's config block agrees with its sections


def config_block(page: str) -> dict:
    """The settings the page prints in its provenance section."""
    (block,) = re.findall(r"^The run's configuration.*?^```yaml\n(.*?)^```", page, flags=re.MULTILINE | re.DOTALL)
    return yaml.safe_load(block)


def assert_the_page_agrees_with_its_config_block(workdir) -> dict:
    """Every setting the page or the run's files state, as the page's config block gives it; returns the block."""
    page = (workdir / "results" / "report" / "summary.md").read_text()
    block = config_block(page)
    autograd, denoise, train = block["autograd"], block["denoise"], block["train"]
    assert f"Seed {block['seed']};" in page
    assert f"With {autograd['n_terms']} terms of the Taylor series ({autograd['dtype']}," in page
    convergence = pd.read_csv(workdir / "results" / "autograd" / "convergence.csv")
    assert convergence["n_terms"].max() == autograd["convergence_max_terms"]
    assert set(re.findall(r"\((\d+) iterations\)", page)) == {str(denoise["iterations"])}
    assert set(re.findall(r"of (\d+) epochs, epoch", page)) == {str(train["epochs"])}
    for variant in train["variants"]:
        confused = np.load(workdir / "results" / "eval" / variant / f"seed{block['seeds'][0]}" / "confused_images.npz")
        assert len(confused["index"]) == block["eval"]["n_confused_images"]
    return block


# One setting of each stage.
STAGE_CHANGES = [
    ("autograd", "convergence_max_terms", 8),
    ("denoise", "iterations", 25),
    ("eval", "n_confused_images", 4),
    ("train", "epochs", 3),
]


def override(changes: dict[str, dict]) -> list[str]:
    return [f"{name}={yaml.safe_dump(values, default_flow_style=True).strip()}" for name, values in changes.items()]


@pytest.mark.parametrize("stage,key,value", STAGE_CHANGES)
def test_each_stages_change_alone_renders_the_page_again(smoke, stage, key, value):
    result = run_snakemake(smoke.workdir, "-n", "--config", *override({stage: {key: value}}), workflow=smoke.workflow)
    assert "summary" in planned_jobs(result)


def test_after_every_stages_change_the_pages_config_block_agrees_with_its_sections(own_smoke_run):
    workdir = own_smoke_run.workdir
    assert_the_page_agrees_with_its_config_block(workdir)
    changed: dict[str, dict] = {}
    for stage, key, value in STAGE_CHANGES:
        changed.setdefault(stage, {})[key] = value
    # One seed: the page's per-seed sections are the same for a second one, which would double the retraining.
    run_snakemake(workdir, "--config", *override(changed), "seeds=[546]", workflow=own_smoke_run.workflow)
    block = assert_the_page_agrees_with_its_config_block(workdir)
    assert {name: {key: block[name][key] for key in values} for name, values in changed.items()} == changed
    assert block["seeds"] == [546]


# ------------------------------------------------------------ 4. text is kept; numbers and nulls where asked


def test_quoted_paths_reach_the_jobs_as_written(tmp_path):
    """A '#', a ': ' and a newline in double-quoted --config paths: the files exist under those names only."""
    write_smoke_inputs(tmp_path)
    smoke = tmp_path / "smoke-data"
    named = {
        "cifar10": (tmp_path / "run #1" / "cifar10.npz", smoke / "cifar10.npz"),
        "noisy": (tmp_path / "a: b" / "noisy.png", smoke / "parrot_noisy.png"),
        "clean": (tmp_path / "two\nlines" / "clean.png", smoke / "parrot.png"),
    }
    for target, original in named.values():
        target.parent.mkdir()
        shutil.copyfile(original, target)
    quoted = {name: '"' + str(target).replace("\n", "\\n") + '"' for name, (target, _) in named.items()}
    override = (
        f"data={{cifar10: {{source: {quoted['cifar10']}}}, "
        f"parrot: {{noisy: {{source: {quoted['noisy']}}}, clean: {{source: {quoted['clean']}}}}}}}"
    )
    result = run_snakemake(tmp_path, "-n", "data", "--config", override, check=False)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert {"prepare_cifar10", "prepare_parrot"} <= set(planned_jobs(result))
    assert f"input: {named['cifar10'][0]}" in result.stdout and f"input: {named['noisy'][0]}" in result.stdout


# ----------------------------------------------------- 5. paths Snakemake would read as a wildcard or a pathvar


@pytest.mark.parametrize("folder", ["dir {x}", "dir <script>"])
def test_a_path_snakemake_reads_as_a_pattern_is_refused_with_its_file_url(tmp_path, folder):
    write_smoke_inputs(tmp_path)
    source = tmp_path / folder / "noisy.png"
    source.parent.mkdir()
    shutil.copyfile(tmp_path / "smoke-data" / "parrot_noisy.png", source)
    refused = run_snakemake(
        tmp_path, "-n", "data", "--config", f"data={{parrot: {{noisy: {{source: '{source}'}}}}}}", check=False
    )
    output = output_of(refused)
    assert refused.returncode != 0 and not planned_jobs(refused)
    assert f"config data.parrot.noisy.source = '{source}'" in output
    assert "WildcardError" not in output and "UndefinedPathvar" not in output
    (url,) = re.findall(r"file://\S+", output)
    assert url == source.as_uri()
    # the suggested URL is the same file, which the pipeline then takes
    run_snakemake(
        tmp_path, "resources/parrot/noisy.png", "--config", f"data={{parrot: {{noisy: {{source: '{url}'}}}}}}"
    )
    assert (tmp_path / "resources" / "parrot" / "noisy.png").is_file()


# -------------------------------------------------------------------------- 6. seeds every generator takes


@pytest.mark.parametrize("override,key", [("seed=4294967296", "['seed']"), ("seeds=[546, 4294967296]", "['seeds'][1]")])
def test_a_seed_of_2_to_the_32_is_refused_at_start_up_naming_the_key(tmp_path, override, key):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n", "--config", override, check=False)
    output = output_of(result)
    assert result.returncode != 0 and not planned_jobs(result)
    assert "4294967296 is greater than the maximum of 4294967295" in output and key in output


# ------------------------------------------------------------------------------------ 12. a killed run's lock


def kill_once_locked(args: list[str], workdir) -> None:
    """Start `snakemake ARGS` and SIGKILL it, with its jobs, as soon as it holds the working directory's lock."""
    process = start(*args, cwd=workdir, output=workdir / "killed")
    locks = workdir / ".snakemake" / "locks"
    deadline = time.monotonic() + 300
    while not (locks.is_dir() and any(locks.iterdir())):
        assert process.is_alive(), "the run ended before it took its lock"
        assert time.monotonic() < deadline, "the run took no lock"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.join()


def test_after_a_killed_run_the_readmes_unlock_and_the_same_command_run_again(tmp_path):
    from test_readme import COMMANDS

    (unlock,) = [words for words in COMMANDS if "--unlock" in words]
    workdir = copy_workflow(tmp_path / "work")
    write_smoke_inputs(workdir)
    args = ["data", "--configfile", "config.yaml", "tests/smoke.yaml"]
    kill_once_locked(args, workdir)
    locked = snakemake(*args, cwd=workdir, timeout=600)
    assert locked.returncode != 0 and "Directory cannot be locked" in output_of(locked)
    released = snakemake(*unlock[1:], cwd=workdir, timeout=600)
    assert released.returncode == 0, output_of(released)[-3000:]
    again = snakemake(*args, cwd=workdir, timeout=600)
    assert again.returncode == 0, output_of(again)[-3000:]
    assert (workdir / "resources" / "cifar10.npz").is_file()
