"""Config values as Snakemake hands them over: text kept as written, numbers and nulls where the schema asks, seeds
every generator takes, and the settings the page prints."""

import re
from types import SimpleNamespace

import jinja2
import numpy as np
import pytest
import yaml
from conftest import REPO

from torchbasics.core import settings
from torchbasics.core.errors import InputError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


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


def test_the_default_profile_points_a_killed_run_at_unlock():
    profile = (REPO / "profiles" / "default" / "config.yaml").read_text()
    assert yaml.safe_load(profile)["rerun-incomplete"] is True
    assert "--unlock" in profile and "simply runs again" not in profile


def test_exponent_numbers_are_numbers_in_overrides_and_text_stays_text():
    config = {
        "train": {"lr": "3e-4"},
        "denoise": {"lr": ["1E-5", "1.0e-4"]},
        "data": {"cifar10": {"checksum": "md5:" + "1" * 32, "source": "data/3e-4.npz"}},
    }
    settings.type_values_as_the_schema_asks(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert config == {
        "train": {"lr": 3e-4},
        "denoise": {"lr": [1e-5, 1e-4]},
        "data": {"cifar10": {"checksum": "md5:" + "1" * 32, "source": "data/3e-4.npz"}},
    }


def schema_positions():
    schema_folder = REPO / "workflow" / "schemas"
    return settings.numeric_positions(yaml.safe_load((schema_folder / "config.schema.yaml").read_text()), schema_folder)


def test_only_what_the_schema_types_as_a_number_is_converted():
    config = {
        "train": {"lr": "3e-4", "epochs": 2.0},
        "denoise": {"lr": ["1e-1", 0.9]},
        "split": {"train": [0, 2000.0]},
        "data": {"cifar10": {"source": "1e5", "checksum": None}},
    }
    changed = settings.normalise_numbers(config, schema_positions())
    assert config == {
        "train": {"lr": 3e-4, "epochs": 2},
        "denoise": {"lr": [0.1, 0.9]},
        "split": {"train": [0, 2000]},
        "data": {"cifar10": {"source": "1e5", "checksum": None}},
    }
    assert type(config["train"]["epochs"]) is int and type(config["split"]["train"][1]) is int
    assert sorted(changed) == ["denoise.lr.0", "split.train.1", "train.epochs", "train.lr"]


@pytest.mark.parametrize("clean", [None, {"source": "parrot.png"}])
def test_the_comparison_figures_caption_follows_the_clean_setting(clean):
    caption = (REPO / "workflow" / "report" / "denoise_comparison.rst").read_text()
    config = {"data": {"parrot": {"clean": clean}}}
    text = jinja2.Environment().from_string(caption).render(snakemake=SimpleNamespace(config=config))
    assert ("clean original" in text.replace("No clean original", "")) == (clean is not None)
    assert ("best setting of each norm" in text) == (clean is not None)
