# torchbasics: the "introduction to PyTorch" assignment as a reproducible pipeline.
#   snakemake --cores all --resources gpu=1          # everything
#   snakemake --cores all denoise                    # one stage: data, autograd, denoise, classifier, report
# See README.md for set-up, local data and the cluster profile.

import sys
from pathlib import Path

import yaml
from snakemake.utils import min_version, update_config, validate

min_version("9.0")


configfile: "config.yaml"


# The description at the top of `snakemake --report`.
report: "workflow/report/workflow.rst"


# The library the entry scripts use; the Snakefile needs only its light, torch-free settings checks.
sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
from torchbasics import settings

update_config(config, settings.typed_overrides(workflow.config_settings.overwrite_config))
# Snakemake reads --configfile itself, with YAML 1.1, which takes 3e-4 for text; the schema's number
# positions are read as numbers here, and whole floats (2.0) where it asks for an integer become integers.
SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
with open(SCHEMAS / "config.schema.yaml") as schema_file:
    settings.normalise_numbers(config, settings.numeric_positions(yaml.safe_load(schema_file), SCHEMAS))
validate(config, "workflow/schemas/config.schema.yaml")
settings.check_split(config["split"])
with open(Path(workflow.basedir) / "config.yaml") as defaults_file:
    for key in settings.drop_stale_checksums(config, yaml.safe_load(defaults_file)):
        print(f"torchbasics: the source was changed, so the default {key} is not applied", file=sys.stderr)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/autograd.smk"
include: "workflow/rules/denoise.smk"
include: "workflow/rules/classifier.smk"
include: "workflow/rules/report.smk"


# A source the pipeline writes would be overwritten, or deleted when its job fails: refused before any job runs.
settings.check_sources_are_not_outputs(
    config, lambda path: any(rule.is_producer(path) for rule in workflow.rules), Path.cwd()
)


# The default target: every stage (each rule file adds its stage's outputs to ALL_TARGETS).
rule all:
    default_target: True
    input:
        ALL_TARGETS,
