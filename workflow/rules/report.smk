# The report stage: the summary page that answers the assignment's questions from the other stages' CSV/JSON
# files and figures. It reads no checkpoint and no data set, so re-rendering it never retrains anything.
# Its inputs come from functions, which Snakemake calls once every rule file is read: this file may be
# included before the stages it reads.


def run_info_inputs(wildcards):
    return {
        "cifar10": rules.prepare_cifar10.output.npz,
        **{f"parrot_{which}": path for which, path in PARROT_IMAGES.items()},
        # the stages' records of where (and, for training, in what precision) they ran
        "autograd_summary": rules.autograd_gradients.output.summary,
        "eval_metrics": expand(rules.evaluate.output.metrics, variant=VARIANTS),
    }


# Every file the page reads is a named input, and only those the config declares: a comparison left in results/
# by an earlier run with both variants never reaches the page of a run with one.
def summary_inputs(wildcards):
    return {
        "run_info": rules.run_info.output[0],
        "autograd_summary": rules.autograd_gradients.output.summary,
        "autograd_gradient_figure": rules.autograd_plot_gradient.output.png,
        "autograd_convergence_figure": rules.autograd_plot_convergence.output.png,
        "denoise_best": rules.denoise_summary.output.best,
        "denoise_table": rules.denoise_summary.output.table,
        "denoise_contact_sheets": expand(rules.denoise_plot_contact_sheet.output.png, norm=DENOISE["norms"]),
        "denoise_comparison_figure": rules.denoise_plot_comparison.output.png,
        # one per variant, in the order of params.variants
        "train_best": expand(rules.select_epoch.output.best, variant=VARIANTS),
        "train_loss_figures": expand(rules.plot_train_loss.output.png, variant=VARIANTS),
        "eval_metrics": expand(rules.evaluate.output.metrics, variant=VARIANTS),
        "eval_per_class": expand(rules.evaluate.output.per_class, variant=VARIANTS),
        "eval_confusion": expand(rules.evaluate.output.confusion, variant=VARIANTS),
        "eval_confusion_figures": expand(rules.plot_evaluate_confusion.output.png, variant=VARIANTS),
        "eval_confused_figures": expand(rules.plot_evaluate_confused.output.png, variant=VARIANTS),
        # empty where the config does not compare the variants
        "compare_table": rules.compare.output.table if COMPARE else [],
        "compare_test": rules.compare.output.mcnemar if COMPARE else [],
        "compare_figure": rules.plot_compare.output.png if COMPARE else [],
    }


# A cheap job that reads a few small files.
localrules:
    run_info,
    summary,


rule run_info:
    input:
        unpack(run_info_inputs),
    output:
        "results/report/run_info.json",
    log:
        "logs/report/run_info.log",
    conda:
        "../../envs/torchbasics.yaml"
    # The script records the config from snakemake.config, not from params: every setting that changes a result
    # reruns a stage above, and this job after it; one that does not (a device, a timeout) reruns nothing.
    params:
        sources={name: entry["source"] for name, entry in SOURCES.items()},
    script:
        "../scripts/run_info.py"


rule summary:
    input:
        unpack(summary_inputs),
    output:
        html=report("results/report/summary.html", caption="../report/summary.rst", category="Summary"),
        markdown="results/report/summary.md",
    log:
        "logs/report/summary.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        variants=VARIANTS,
        norms=DENOISE["norms"],
    script:
        "../scripts/summary.py"


# Stage target: the summary page (Markdown and self-contained HTML).
rule report:
    input:
        report_targets,
