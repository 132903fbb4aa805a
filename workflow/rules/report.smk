# The report stage: the summary page that answers the assignment's questions from the other stages' CSV/JSON
# files and figures. It reads no checkpoint and no data set, so re-rendering it never retrains anything.


# A cheap job that reads a few small files.
localrules:
    run_info,
    summary,


rule run_info:
    input:
        cifar10=rules.prepare_cifar10.output.npz,
        parrot_noisy="resources/parrot/noisy.png",
        parrot_clean=["resources/parrot/clean.png"] if has_clean_parrot() else [],
        # the stages' records of where (and, for training, in what precision) they ran
        autograd_summary=rules.autograd_gradients.output.summary,
        eval_metrics=expand(rules.evaluate.output.metrics, variant=VARIANTS),
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


# Every file the page reads is a named input, and only those the config declares: a comparison left in results/
# by an earlier run with both variants never reaches the page of a run with one.
rule summary:
    input:
        run_info=rules.run_info.output[0],
        autograd_summary=rules.autograd_gradients.output.summary,
        autograd_gradient_figure=rules.autograd_plot_gradient.output.png,
        autograd_convergence_figure=rules.autograd_plot_convergence.output.png,
        denoise_best=rules.denoise_summary.output.best,
        denoise_table=rules.denoise_summary.output.table,
        denoise_contact_sheets=expand(rules.denoise_plot_contact_sheet.output.png, norm=DENOISE["norms"]),
        denoise_comparison_figure=rules.denoise_plot_comparison.output.png,
        # empty without a clean original: no PSNR to map
        denoise_psnr_heatmap=rules.denoise_plot_psnr_heatmap.output.png if has_clean_parrot() else [],
        # one per variant, in the order of params.variants
        train_best=expand(rules.select_epoch.output.best, variant=VARIANTS),
        train_loss_figures=expand(rules.plot_train_loss.output.png, variant=VARIANTS),
        train_val_loss_figure=rules.plot_val_loss_variants.output.png,
        eval_metrics=expand(rules.evaluate.output.metrics, variant=VARIANTS),
        eval_per_class=expand(rules.evaluate.output.per_class, variant=VARIANTS),
        eval_confusion=expand(rules.evaluate.output.confusion, variant=VARIANTS),
        eval_confusion_figures=expand(rules.plot_evaluate_confusion.output.png, variant=VARIANTS),
        eval_confused_figures=expand(rules.plot_evaluate_confused.output.png, variant=VARIANTS),
        # empty where the config does not compare the variants
        compare_table=rules.compare.output.table if COMPARE else [],
        compare_test=rules.compare.output.mcnemar if COMPARE else [],
        compare_figure=rules.plot_compare.output.png if COMPARE else [],
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
        rules.summary.output,


ALL_TARGETS.extend(rules.report.input)
