# torchbasics: the "introduction to PyTorch" assignment as a reproducible pipeline.
#   snakemake --cores all --resources gpu=1          # everything
#   snakemake --cores all denoise                    # one stage: data, autograd, denoise, classifier, report
# See README.md for set-up, local data and the cluster profile.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


# The description at the top of `snakemake --report`.
report: "workflow/report/workflow.rst"


# Reads, checks and completes the config (validation included) before any stage uses it.
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/autograd.smk"
include: "workflow/rules/denoise.smk"
include: "workflow/rules/classifier.smk"
include: "workflow/rules/report.smk"


check_config_against_rules()


rule all:
    default_target: True
    input:
        final_targets,
