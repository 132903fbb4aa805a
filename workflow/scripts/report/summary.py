"""Entry script of rule summary: the Markdown and self-contained HTML pages answering the assignment."""

from torchbasics.core.runtime import run_script
from torchbasics.report.summary import PageRun, write_summary


def main(snakemake):
    params = snakemake.params
    run = PageRun(
        variants=list(params.variants),
        baseline=params.baseline,
        norms=list(params.norms),
        shown_seed=params.shown_seed,
        clean_reference=params.clean_reference,
        implementation=snakemake.config["train"]["implementation"],
    )
    write_summary(run, snakemake.output.markdown, snakemake.output.html)


run_script(snakemake, main)
