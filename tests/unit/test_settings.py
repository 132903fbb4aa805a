"""Start-up checks of the config that the schema cannot express."""

import copy

import pytest

from torchbasics.core.errors import InputError
from torchbasics.core.settings import (
    check_split,
    configured_checksum,
    configured_sources,
    drop_stale_checksums,
    inherit_run_choices,
)

DEFAULTS = {
    "data": {
        "cifar10": {"source": "https://example.org/c.tar.gz", "checksum": "md5:" + "a" * 32},
        "parrot": {
            "noisy": {"source": "https://example.org/n.png", "checksum": "md5:" + "b" * 32},
            "clean": {"source": "https://example.org/c.png", "checksum": "md5:" + "c" * 32},
        },
    }
}


def test_default_checksum_kept_for_default_source():
    config = copy.deepcopy(DEFAULTS)
    assert drop_stale_checksums(config, DEFAULTS) == []
    assert config == DEFAULTS


def test_replaced_source_drops_the_default_checksum_only():
    config = copy.deepcopy(DEFAULTS)
    config["data"]["cifar10"]["source"] = "/local/cifar.tar.gz"
    assert drop_stale_checksums(config, DEFAULTS) == ["data.cifar10.checksum"]
    assert config["data"]["cifar10"]["checksum"] is None
    assert config["data"]["parrot"]["noisy"]["checksum"] == DEFAULTS["data"]["parrot"]["noisy"]["checksum"]


def test_replaced_source_with_its_own_checksum_keeps_it():
    config = copy.deepcopy(DEFAULTS)
    config["data"]["parrot"]["noisy"] = {"source": "/local/n.png", "checksum": "sha256:" + "d" * 64}
    assert drop_stale_checksums(config, DEFAULTS) == []
    assert config["data"]["parrot"]["noisy"]["checksum"] == "sha256:" + "d" * 64


def test_clean_image_switched_off():
    config = copy.deepcopy(DEFAULTS)
    config["data"]["parrot"]["clean"] = None
    assert drop_stale_checksums(config, DEFAULTS) == []


@pytest.mark.parametrize(
    "split,message",
    [
        ({"train": [0, 0], "val": [10, 20], "test": [20, 30]}, "split.train = \\[0, 0\\] is empty"),
        ({"train": [0, 15], "val": [10, 20], "test": [20, 30]}, "split.train and split.val overlap"),
        ({"train": [0, 10], "val": [20, 30], "test": [25, 40]}, "split.val and split.test overlap"),
    ],
)
def test_bad_split_is_refused(split, message):
    with pytest.raises(InputError, match=message):
        check_split(split)


def test_any_order_of_disjoint_ranges_is_fine():
    check_split({"train": [100, 200], "val": [0, 50], "test": [50, 100]})


def test_command_line_overrides_get_yaml_types():
    from conftest import REPO

    from torchbasics.core.settings import type_values_as_the_schema_asks

    # as Snakemake's reading of a nested --config value leaves them: every leaf a string
    given = {
        "split": {"train": ["0", "4000"]},
        "data": {"cifar10": {"source": "../x.tar.gz", "checksum": "null"}},
        "seed": 7,
        "train": {"lr": "1.0e-3", "device": "cpu"},
    }
    type_values_as_the_schema_asks(given, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert given == {
        "split": {"train": [0, 4000]},
        "data": {"cifar10": {"source": "../x.tar.gz", "checksum": None}},
        "seed": 7,
        "train": {"lr": 1e-3, "device": "cpu"},
    }


def stage_config(**stages):
    config = {"device": "cuda", "implementation": "reference"}
    for stage in ("autograd", "denoise", "train", "eval"):
        config[stage] = dict(stages.get(stage, {}))
    return config


def test_stages_take_the_run_wide_choices_they_leave_open():
    config = stage_config(autograd={"device": None}, train={"device": "cpu"}, eval={"implementation": "fast"})
    inherit_run_choices(config)
    assert config["autograd"] == {"device": "cuda"}  # autograd has no implementation to choose
    assert config["denoise"] == {"device": "cuda", "implementation": "reference"}
    assert config["train"] == {"device": "cpu", "implementation": "reference"}
    assert config["eval"] == {"device": "cuda", "implementation": "fast"}


def test_sources_and_their_checksum_settings_come_from_one_table():
    config = copy.deepcopy(DEFAULTS)
    config["data"]["parrot"]["clean"] = None
    assert list(configured_sources(config)) == ["cifar10", "parrot_noisy"]
    assert configured_checksum(config, "parrot_noisy") == ("md5:" + "b" * 32, "data.parrot.noisy.checksum")
    assert configured_checksum(config, "parrot_clean") == (None, "data.parrot.clean.checksum")


# --------------------------------------------------------------- which settings reach a job from the config


def test_every_setting_that_shapes_no_result_says_why():
    from torchbasics.core.settings import NOT_SHAPING_RESULTS

    assert {"device", "variants", "baseline"} <= set(NOT_SHAPING_RESULTS)
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in NOT_SHAPING_RESULTS.values())


def test_a_stages_params_keep_exactly_the_settings_that_shape_its_results():
    from torchbasics.core.settings import shaping_settings

    train = {"variants": ["plain"], "baseline": "plain", "device": "cuda", "epochs": 2, "precision": "auto"}
    assert shaping_settings(train) == {"epochs": 2, "precision": "auto"}
    assert shaping_settings({"batch_size": 128, "device": "cpu"}) == {"batch_size": 128}


def test_a_job_reads_from_the_config_only_the_settings_that_shape_no_result():
    from torchbasics.core.settings import job_setting

    config = {"data": {"download": {"retries": 3}}, "train": {"epochs": 15}}
    assert job_setting(config, "data", "download") == {"retries": 3}
    with pytest.raises(ValueError, match="train.epochs shapes results: it reaches the job as a rule param"):
        job_setting(config, "train", "epochs")


STAGE_ENTRY_SCRIPTS = ("autograd", "denoise", "classifier", "data")
# The only ways a stage's entry script reads the config: its run-time settings, a setting of the table, a checksum.
CONFIG_READERS = ("job_runtime(", "job_setting(", "configured_checksum(")


def test_stage_entry_scripts_read_the_config_only_through_the_table(repo):
    for stage in STAGE_ENTRY_SCRIPTS:
        for script in sorted((repo / "workflow" / "scripts" / stage).glob("*.py")):
            for number, line in enumerate(script.read_text().splitlines(), start=1):
                if "snakemake.config" in line:
                    assert any(reader in line for reader in CONFIG_READERS), f"{script.name}:{number}: {line.strip()}"
