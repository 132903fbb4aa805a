# The config as every stage reads it, the facts the stage files share, and the targets: each stage's outputs
# and the default target's, from functions, so that no rule file depends on the order of the includes.

import os
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

# The library the entry scripts use; the workflow itself needs only its light, torch-free config handling. Each
# stage's entry scripts sit in a folder of their own, which Snakemake puts on their path, so the library's folder
# reaches them through PYTHONPATH, set here because every Snakemake process (a cluster job's too) reads this file.
LIBRARY = str(Path(workflow.basedir) / "workflow" / "scripts")
sys.path.insert(0, LIBRARY)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [LIBRARY, os.environ.get("PYTHONPATH")])))
from torchbasics.denoise import norms
from torchbasics.core import paths, settings
from torchbasics.classifier import variants
from torchbasics.data.cifar10 import shuffle_seed as cifar10_shuffle_seed
from torchbasics.core.fetch import is_url
from torchbasics.denoise.grid import grid_settings
from torchbasics.core.gpus import machine_may_have_gpu

# ------------------------------------------------------------------------------------------------ the config

# Snakemake reads a nested --config value with YAML's base loader (every leaf a string) and --configfile with
# YAML 1.1 (3e-4 is text): numbers and nulls are read where the schema asks for them, before the schema checks
# them; every other text (a path, a checksum) stays as given.
settings.type_values_as_the_schema_asks(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
validate(config, "../schemas/config.schema.yaml")
with open(Path(workflow.basedir) / "config.yaml") as defaults_file:
    for setting in settings.finish_config(config, yaml.safe_load(defaults_file)):
        print(f"torchbasics: the source was changed, so the default {setting} is not applied", file=sys.stderr)
settings.check_local_paths_are_plain(config, Path.cwd())

# The settings the page prints (all but those that change no result), rule run_info's params.
PAGE_CONFIG = settings.settings_that_shape_results(config)
AUTOGRAD = config["autograd"]
DENOISE = config["denoise"]
norms.check_configured(DENOISE["norms"])
VARIANTS = config["train"]["variants"]
# The network every other configured one is compared with (McNemar per seed, the paired difference over seeds).
BASELINE = config["train"]["baseline"]
variants.check_configured(VARIANTS, BASELINE)
# The training replicates: each variant is trained, its epoch chosen and evaluated once per seed.
SEEDS = config["seeds"]
# Every (variant, seed), variant by variant: the order of the per-run inputs of the rules that read them all.
RUNS = [[variant, seed] for variant in VARIANTS for seed in SEEDS]
# The seed whose runs the summary page shows in full (evaluation, confusion, examples); the others enter it
# through the replicate tables. Decided here only: rule summary hands it to the page, which names it.
SHOWN_SEED = SEEDS[0]
# The variants compared with the baseline, in the config's order: none where the baseline is not trained.
COMPARED = variants.compared_with(BASELINE, VARIANTS)
# A comparison's {variant} is the one compared with the baseline, which its folder names too: a comparison
# with another baseline is another file.
COMPARISON = paths.fill(paths.COMPARISON, baseline=BASELINE)


def against_baseline(pattern):
    """A comparison's ``pattern`` with the configured baseline filled in, its {variant} (and {seed}) left open."""
    return paths.fill(pattern, baseline=BASELINE)


def baseline_and_compared(pattern):
    """``pattern`` of the baseline's run and of the compared {variant}'s (same {seed}), in that order."""
    return lambda wildcards: expand(pattern, variant=[BASELINE, wildcards.variant], seed=wildcards.seed)


# --------------------------------------------------------------------------------------------- the inputs

# Every fetched input by name ({source, checksum}); the clean parrot is optional.
SOURCES = settings.configured_sources(config)


def per_run(pattern):
    """``pattern`` filled in for every (variant, seed) of RUNS; the jobs that read them find each one by its run
    (``paths.per_run``), never by its place in the list."""
    return list(paths.per_run(pattern, RUNS).values())


def source_file(name):
    """The file a job reads for source ``name``: the download of a URL, or the local path itself."""
    source = SOURCES[name]["source"]
    return paths.fill(paths.DOWNLOAD, name=name) if is_url(source) else source


def has_clean_parrot():
    return "parrot_clean" in SOURCES


# The noisy parrot and, when one is configured, its clean original (the reference for PSNR/SSIM).
PARROT_IMAGES = {which: paths.fill(paths.PARROT, which=which) for which in ["noisy", "clean"][: 1 + has_clean_parrot()]}

# The denoising grid in the order of its images: lr by lr, alpha within lr (a contact sheet's rows and columns).
DENOISE_GRID = grid_settings(DENOISE["lr"], DENOISE["alpha"])


# A stage's settings that change its numbers, for its rules' params; the others (the device, the variants, the
# baseline) the jobs read from the config: settings.NOT_SHAPING_RESULTS says which and why.
shaping_settings = settings.shaping_settings


# The plotting modules, as inputs of the plot rules: Snakemake tracks a rule's own script but not what it
# imports, so without these a change of a figure's code or style would not re-run its plot.
def library_code(*modules):
    """The source files of the library's ``modules`` (``stage/module``), as inputs of the rules that use them."""
    return [workflow.source_path(f"../scripts/torchbasics/{module}.py") for module in modules]


PLOTTING_CODE = {
    stage: library_code(f"{stage}/plots", "core/figures") for stage in ("autograd", "denoise", "classifier")
}
# Likewise the page's layout, its worded answers and how it writes text: a changed statement re-renders the page.
PAGE_CODE = library_code("report/summary", "report/answers", "report/markup")


def check_config_against_rules():
    """Refuse a source that the pipeline writes: a failing job would delete it. Needs every rule declared."""
    settings.check_sources_are_not_outputs(
        config, lambda path: any(rule.is_producer(path) for rule in workflow.rules), Path.cwd()
    )


# ------------------------------------------------------------------------- what a CNN job asks of the machine

# CPU threads that keep a GPU fed, or that a CNN job asks for on a cluster node.
THREADS_OF_A_CNN_JOB = 4


def jobs_run_here():
    """Whether jobs run on the machine Snakemake plans them on: not on a cluster's nodes (nor is this one of them)."""
    return workflow.local_exec and not workflow.remote_exec


def gpus_per_job(stage):
    """The ``gpu`` resource of a job of ``stage`` (each that computes with torch: autograd, denoise, train, eval): 0
    where it can only compute on the CPU, else 1, for the GPU the job then claims (``runtime.job_runtime``).

    0 lets CPU jobs run side by side; the workflow profile's --resources gpu=1 would otherwise queue them one at a
    time for a GPU they never use. On a cluster the job runs elsewhere, so only ``cpu`` says it needs none.
    """
    device = config[stage]["device"]
    if device == "cpu":
        return 0
    if device == "auto" and jobs_run_here() and not machine_may_have_gpu():
        return 0
    return 1


def cpu_share(jobs, on_a_cluster):
    """The cores of this machine shared evenly by ``jobs`` jobs of one stage (at least one each); on a cluster,
    where each job gets cores of its own, ``on_a_cluster``.

    A small CNN at batch 64 makes poor use of a second thread, so jobs side by side on a core each finish sooner
    than one after another on all the cores, and one-core jobs fill the cores that others leave idle. The thread
    count changes the rounding, and so the numbers: training records it, and ``--set-threads train=N`` fixes it.
    """
    return max(1, workflow.cores // jobs) if jobs_run_here() else on_a_cluster


def threads_per_job(stage, jobs):
    """A GPU job's feeding threads; on the CPU, its share of the cores among the stage's ``jobs`` jobs."""
    if gpus_per_job(stage):
        return THREADS_OF_A_CNN_JOB
    return cpu_share(jobs, on_a_cluster=THREADS_OF_A_CNN_JOB)


# ------------------------------------------------------------------------------ the report stage's inputs


def run_info_inputs(wildcards):
    return {
        "cifar10": rules.prepare_cifar10.output.npz,
        **{f"parrot_{which}": path for which, path in PARROT_IMAGES.items()},
        # the stages' records of where (and, for training, in what precision) they ran
        "autograd_summary": rules.autograd_gradients.output.summary,
        "eval_metrics": per_run(rules.evaluate.output.metrics),
    }


# Every file the page reads, and only those the config declares: the page finds them by their paths (paths.*)
# from rule summary's params, so a comparison left in results/ by an earlier run never reaches a page without it.
def summary_inputs(wildcards):
    return {
        "run_info": rules.run_info.output[0],
        "page_code": PAGE_CODE,
        "autograd": [rules.autograd_gradients.output.summary, *rules.autograd_plot_gradient.output],
        "autograd_convergence": rules.autograd_plot_convergence.output,
        "denoise": [
            *rules.denoise_summary.output,
            *expand(rules.denoise_plot_contact_sheet.output.png, norm=DENOISE["norms"]),
            rules.denoise_plot_comparison.output.png,
        ],
        # without a clean original there is no PSNR to map
        "denoise_quality": (
            [rules.denoise_plot_psnr_heatmap.output.png, rules.denoise_regions.output[0]] if has_clean_parrot() else []
        ),
        "val_loss_figure": rules.plot_val_loss_variants.output.png,
        # each variant's files of the seed shown in full
        "variants": expand(
            [
                rules.select_epoch.output.best,
                rules.plot_train_loss.output.png,
                *rules.evaluate.output,
                rules.plot_evaluate_confusion.output.png,
                rules.plot_evaluate_confused.output.png,
                rules.train.output.history,
                rules.train.output.val_per_class,
            ],
            variant=VARIANTS,
            seed=SHOWN_SEED,
        ),
        # each compared variant's comparison with the baseline: on the seed shown in full, and over the seeds
        "comparisons": expand(
            [*rules.compare.output, rules.plot_compare.output.png, *rules.paired_replicates.output],
            variant=COMPARED,
            seed=SHOWN_SEED,
        ),
        # what holds across the seeds
        "replicates": [*rules.replicates.output, *rules.plot_replicates.output],
    }


# -------------------------------------------------------------------------------------------- the targets
# Functions of the wildcards (there are none), so that Snakemake calls them once every rule file is read.


def data_targets(wildcards=None):
    """Every prepared input."""
    return [
        *expand(rules.verify_source.output, name=SOURCES),
        *rules.prepare_cifar10.output,
        *rules.cifar10_splits.output,
        *PARROT_IMAGES.values(),
    ]


def autograd_targets(wildcards=None):
    """Every output of part 1.1."""
    return [
        *rules.autograd_gradients.output,
        *rules.autograd_convergence.output,
        *rules.autograd_plot_gradient.output,
        *rules.autograd_plot_convergence.output,
    ]


def denoise_targets(wildcards=None):
    """Every output of part 1.2."""
    return [
        *expand(rules.denoise_grid.output, norm=DENOISE["norms"]),
        *rules.denoise_summary.output,
        *expand(rules.denoise_plot_contact_sheet.output, norm=DENOISE["norms"]),
        *rules.denoise_plot_comparison.output,
        *rules.denoise_plot_loss_curves.output,
        *(rules.denoise_plot_psnr_heatmap.output if has_clean_parrot() else []),
        *(rules.denoise_regions.output if has_clean_parrot() else []),
    ]


def classifier_targets(wildcards=None):
    """Every final output of training (each class's validation accuracy at every epoch included), epoch
    selection, evaluation, the comparison of the variants and the replicates."""
    per_run_outputs = [
        *rules.train.output,
        *rules.plot_train_loss.output,
        *rules.evaluate.output,
        *rules.plot_evaluate_confusion.output,
        *rules.plot_evaluate_confused.output,
    ]
    compared = [*rules.compare.output, *rules.plot_compare.output]
    return [
        *(path for pattern in per_run_outputs for path in per_run(pattern)),
        *expand(compared, variant=COMPARED, seed=SEEDS),
        *rules.plot_val_loss_variants.output,
        *rules.replicates.output,
        *expand(rules.paired_replicates.output, variant=COMPARED),
        *rules.plot_replicates.output,
    ]


def report_targets(wildcards=None):
    """The summary page (Markdown and self-contained HTML)."""
    return [*rules.summary.output]


def final_targets(wildcards=None):
    """The default target: every stage."""
    return [
        *data_targets(),
        *autograd_targets(),
        *denoise_targets(),
        *classifier_targets(),
        *report_targets(),
    ]
