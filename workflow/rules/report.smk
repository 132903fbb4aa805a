# The report stage: the summary page that answers the assignment's questions from the other stages' CSV/JSON
# files and figures. It reads no checkpoint and no data set, so re-rendering it never retrains anything.
# Its inputs come from functions in common.smk, which Snakemake calls once every rule file is read: this file
# may be included before the stages it reads.


# A cheap job that reads a few small files.
localrules:
    run_info,
    summary,


rule run_info:
    input:
        unpack(run_info_inputs),
    output:
        paths.RUN_INFO,
    log:
        "logs/report/run_info.log",
    conda:
        "../../envs/torchbasics.yaml"
    # The page prints the config from these params alone, so that a change of any setting it prints reruns this
    # job (a stage whose output this job does not read, such as denoising, would otherwise leave it stale).
    params:
        config=PAGE_CONFIG,
        sources={name: entry["source"] for name, entry in SOURCES.items()},
    script:
        "../scripts/report/run_info.py"


rule summary:
    input:
        unpack(summary_inputs),
    output:
        html=report(paths.SUMMARY_HTML, caption="../report/summary.rst", category="Summary"),
        markdown=paths.SUMMARY_MARKDOWN,
    log:
        "logs/report/summary.log",
    conda:
        "../../envs/torchbasics.yaml"
    # What the page shows; it reads each file where its rule writes it (torchbasics.core.paths).
    params:
        variants=VARIANTS,
        baseline=BASELINE,
        norms=DENOISE["norms"],
        shown_seed=SHOWN_SEED,
        clean_reference=has_clean_parrot(),
    script:
        "../scripts/report/summary.py"


# Stage target: the summary page (Markdown and self-contained HTML).
rule report:
    input:
        report_targets,
