# Helpers shared by the stage files: the fetched sources and where each one is read from.

from torchbasics.cifar10 import shuffle_seed as cifar10_shuffle_seed
from torchbasics.fetch import is_url

# The default target's inputs: each rule file extends this list with its stage target's inputs.
ALL_TARGETS = []

# Every fetched input by name, with the config entry that describes it. parrot_clean is optional.
SOURCES = {
    "cifar10": config["data"]["cifar10"],
    "parrot_noisy": config["data"]["parrot"]["noisy"],
}
if config["data"]["parrot"].get("clean"):
    SOURCES["parrot_clean"] = config["data"]["parrot"]["clean"]

SOURCE_SETTINGS = {
    "cifar10": "data.cifar10.source",
    "parrot_noisy": "data.parrot.noisy.source",
    "parrot_clean": "data.parrot.clean.source",
}


def source_file(name):
    """The file a job reads for source ``name``: the download of a URL, or the local path itself."""
    source = SOURCES[name]["source"]
    return f"resources/download/{name}" if is_url(source) else source


def has_clean_parrot():
    return "parrot_clean" in SOURCES


# Settings a job reads but that cannot change its outputs stay out of its params, whose change would rerun it:
# the list of variants (adding one must not retrain the others) and the device (the scripts read it from the
# config): the same computation elsewhere differs by rounding at most, and the outputs record where they ran.
NOT_SHAPING_RESULTS = ("variants", "device")


def shaping_settings(stage_config):
    """A stage's settings without those that cannot change its outputs, for a rule's params."""
    return {key: value for key, value in stage_config.items() if key not in NOT_SHAPING_RESULTS}


# The plotting modules, as inputs of the plot rules: Snakemake tracks a rule's own script but not what it
# imports, so without these a change of a figure's code or style would not re-run its plot.
PLOTTING_CODE = {
    "part1": workflow.source_path("../scripts/torchbasics/plots_part1.py"),
    "part2": workflow.source_path("../scripts/torchbasics/plots_part2.py"),
}
