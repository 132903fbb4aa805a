"""Entry script of rule summary: the Markdown and self-contained HTML pages answering the assignment."""

from torchbasics.runtime import run_script
from torchbasics.summary import write_summary


def main(snakemake):
    write_summary("results", snakemake.params.variants, snakemake.input.run_info, snakemake.output.markdown,
                  snakemake.output.html)


run_script(snakemake, main)
