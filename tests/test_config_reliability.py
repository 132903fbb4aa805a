"""Reliability of the config and of the page that prints it: the page's config block agrees with its sections after
any change, quoted text reaches the pipeline as given, paths Snakemake cannot take are refused with the way
round, seeds stay in the range every generator takes, and a killed run's lock is documented and released."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, copy_workflow, run_snakemake
from make_inputs import write_smoke_inputs

from torchbasics.core import settings
from torchbasics.core.errors import InputError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def output_of(result) -> str:
    return result.stdout + result.stderr


def planned_jobs(result) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", result.stdout, flags=re.MULTILINE)


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


# One setting of each stage, changed in turn (the cheapest to rerun last: training resumes from its last epoch).
STAGE_CHANGES = [
    ("autograd", "convergence_max_terms", 8),
    ("denoise", "iterations", 25),
    ("eval", "n_confused_images", 4),
    ("train", "epochs", 3),
]


def test_after_each_stages_change_the_pages_config_block_agrees_with_its_sections(smoke_run_copy, tmp_path):
    workdir = tmp_path / "smoke"
    shutil.copytree(smoke_run_copy.workdir, workdir, symlinks=True)  # the shared run stays as it is
    assert_the_page_agrees_with_its_config_block(workdir)
    changed: dict[str, dict] = {}
    for stage, key, value in STAGE_CHANGES:
        changed.setdefault(stage, {})[key] = value
        overrides = [
            f"{name}={yaml.safe_dump(values, default_flow_style=True).strip()}" for name, values in changed.items()
        ]
        run_snakemake(workdir, "--config", *overrides, workflow=smoke_run_copy.workflow)
        block = assert_the_page_agrees_with_its_config_block(workdir)
        assert {name: {key: block[name][key] for key in values} for name, values in changed.items()} == changed


def test_the_page_prints_every_setting_but_those_that_rerun_nothing():
    config = {
        "seed": 7,
        "device": "cuda",
        "data": {
            "cifar10": {"source": "c.npz", "checksum": "md5:" + "a" * 32},
            "parrot": {"noisy": {"source": "n.png", "checksum": None}, "clean": None},
            "download": {"retries": 3, "timeout_s": 60},
        },
        "train": {"variants": ["plain"], "epochs": 2, "device": "cuda", "implementation": "fast"},
        "autograd": {"n_terms": 10, "device": "cuda"},
        "denoise": {"iterations": 20, "device": "cuda"},
        "eval": {"batch_size": 8, "device": "cuda"},
    }
    shown = settings.settings_that_shape_results(config)
    assert shown == {
        "autograd": {"n_terms": 10},
        "data": {"cifar10": {"source": "c.npz"}, "parrot": {"clean": None, "noisy": {"source": "n.png"}}},
        "denoise": {"iterations": 20},
        "eval": {"batch_size": 8},
        "seed": 7,
        "train": {"epochs": 2, "implementation": "fast", "variants": ["plain"]},
    }
    assert list(shown) == sorted(shown) and list(shown["train"]) == sorted(shown["train"])
    assert config["device"] == config["train"]["device"] == "cuda"  # the config the jobs read keeps them


# ------------------------------------------------------------ 4. text is kept; numbers and nulls where asked


def test_text_stays_as_given_and_only_the_schemas_numbers_and_nulls_are_typed():
    # as Snakemake's reading of a nested --config value leaves them: every leaf a string
    config = {
        "seeds": ["546", "547"],
        "split": {"train": ["0", "2000.0"]},
        "data": {
            "cifar10": {"source": "/data/run #1/cifar10.npz", "checksum": "null"},
            "parrot": {
                "noisy": {"source": "/data/a: b/noisy.png", "checksum": "~"},
                "clean": {"source": "/data/two\nlines.png", "checksum": "md5:" + "1" * 32},
            },
        },
        "train": {"lr": "3e-4", "device": "null", "precision": "auto"},
    }
    changed = settings.type_values_as_the_schema_asks(config, SCHEMA)
    assert config == {
        "seeds": [546, 547],
        "split": {"train": [0, 2000]},
        "data": {
            "cifar10": {"source": "/data/run #1/cifar10.npz", "checksum": None},
            "parrot": {
                "noisy": {"source": "/data/a: b/noisy.png", "checksum": None},
                "clean": {"source": "/data/two\nlines.png", "checksum": "md5:" + "1" * 32},
            },
        },
        "train": {"lr": 3e-4, "device": None, "precision": "auto"},
    }
    assert "data.parrot.noisy.checksum" in changed and "data.parrot.clean.source" not in changed


@pytest.mark.parametrize("word", ["null", "~", ""])
def test_a_null_clean_original_and_null_seeds_are_none(word):
    config = {"seeds": word, "data": {"parrot": {"clean": word}}}
    settings.type_values_as_the_schema_asks(config, SCHEMA)
    assert config == {"seeds": None, "data": {"parrot": {"clean": None}}}


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


def test_plain_paths_and_urls_with_braces_pass_the_check(tmp_path):
    config = {
        "data": {
            "cifar10": {"source": "smoke-data/cifar10.npz"},
            "parrot": {"noisy": {"source": "file:///data/dir%20%7Bx%7D/noisy.png"}, "clean": None},
        }
    }
    settings.check_local_paths_are_plain(config, tmp_path)
    config["data"]["cifar10"]["source"] = "smoke-data/{name}.npz"
    with pytest.raises(InputError, match="config data.cifar10.source = 'smoke-data/{name}.npz'"):
        settings.check_local_paths_are_plain(config, tmp_path)


# -------------------------------------------------------------------------- 6. seeds every generator takes


@pytest.mark.parametrize("override,key", [("seed=4294967296", "['seed']"), ("seeds=[546, 4294967296]", "['seeds'][1]")])
def test_a_seed_of_2_to_the_32_is_refused_at_start_up_naming_the_key(tmp_path, override, key):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n", "--config", override, check=False)
    output = output_of(result)
    assert result.returncode != 0 and not planned_jobs(result)
    assert "4294967296 is greater than the maximum of 4294967295" in output and key in output


def test_the_largest_seed_the_schema_takes_seeds_every_generator():
    from torchbasics.core.runtime import seed_everything

    schema = yaml.safe_load(SCHEMA.read_text())["properties"]
    assert schema["seed"]["maximum"] == schema["seeds"]["items"]["maximum"] == settings.SEED_COUNT - 1
    seed_everything(settings.SEED_COUNT - 1)
    assert np.random.randint(10) in range(10)


def test_the_replicates_the_page_suggests_are_seeds_the_schema_takes(tmp_path):
    from test_replicates import page_text, write_run

    largest = 2**32 - 1  # NumPy's largest seed
    files = {
        (variant, largest): write_run(tmp_path / "runs", variant, largest, 0.6) for variant in ("plain", "residual")
    }
    text = page_text(tmp_path, {k: v[0] for k, v in files.items()}, {k: v[1] for k, v in files.items()})
    (suggested,) = re.findall(r"--config 'seeds=(\[[^\]]*\])'", text)
    seeds = yaml.safe_load(suggested)
    assert seeds[0] == largest and len(set(seeds)) == 3
    assert all(0 <= seed <= largest for seed in seeds)


# ------------------------------------------------------------------------------------ 12. a killed run's lock


def kill_once_locked(command: list[str], workdir) -> None:
    """Start ``command`` and SIGKILL it, with its jobs, as soon as it holds the working directory's lock."""
    process = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    locks = workdir / ".snakemake" / "locks"
    deadline = time.monotonic() + 300
    while not (locks.is_dir() and any(locks.iterdir())):
        assert process.poll() is None, "the run ended before it took its lock"
        assert time.monotonic() < deadline, "the run took no lock"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_after_a_killed_run_the_readmes_unlock_and_the_same_command_run_again(tmp_path):
    from test_readme import COMMANDS

    (unlock,) = [words for words in COMMANDS if "--unlock" in words]
    workdir = copy_workflow(tmp_path / "work")
    write_smoke_inputs(workdir)
    command = [sys.executable, "-m", "snakemake", "data", "--configfile", "config.yaml", "tests/smoke.yaml"]
    kill_once_locked(command, workdir)
    locked = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert locked.returncode != 0 and "Directory cannot be locked" in output_of(locked)
    released = subprocess.run(
        [sys.executable, "-m", "snakemake", *unlock[1:]], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    assert released.returncode == 0, output_of(released)[-3000:]
    again = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, output_of(again)[-3000:]
    assert (workdir / "resources" / "cifar10.npz").is_file()


def test_the_default_profile_points_a_killed_run_at_unlock():
    profile = (REPO / "profiles" / "default" / "config.yaml").read_text()
    assert yaml.safe_load(profile)["rerun-incomplete"] is True
    assert "--unlock" in profile and "simply runs again" not in profile
