# The report stage: the summary page that answers the assignment's questions from the other stages' CSV/JSON
# files and figures. It reads no checkpoint and no data set, so re-rendering it never retrains anything.

# Everything the other stages make: the summary waits for all of it (copied before this stage adds its own).
STAGE_OUTPUTS = list(ALL_TARGETS)

# A cheap job that reads a few small files.
localrules:
    run_info,
    summary,


rule run_info:
    input:
        cifar10=rules.prepare_cifar10.output.npz,
        parrot_noisy="resources/parrot/noisy.png",
        parrot_clean=["resources/parrot/clean.png"] if has_clean_parrot() else [],
        device_files=[
            rules.autograd_gradients.output.summary,
            *expand(rules.evaluate.output.metrics, variant=VARIANTS),
        ],
    output:
        "results/report/run_info.json",
    params:
        config=config,
        sources={name: entry["source"] for name, entry in SOURCES.items()},
    log:
        "logs/report/run_info.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/run_info.py"


rule summary:
    input:
        run_info=rules.run_info.output[0],
        stage_outputs=STAGE_OUTPUTS,
    output:
        html=report("results/report/summary.html", caption="../report/summary.rst", category="Summary"),
        markdown="results/report/summary.md",
    params:
        variants=VARIANTS,
    log:
        "logs/report/summary.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/summary.py"


# Stage target: the summary page (Markdown and self-contained HTML).
rule report:
    input:
        rules.summary.output,


ALL_TARGETS.extend(rules.report.input)
