"""Entry script of rule run_info: config, devices, package versions and input checksums of this run."""

from torchbasics.core.runtime import run_script
from torchbasics.report.provenance import write_run_info


def main(snakemake):
    inputs = {name: snakemake.input[name] for name in snakemake.params.sources}
    write_run_info(
        snakemake.output[0],
        snakemake.params.config,
        inputs,
        snakemake.params.sources,
        autograd_summary=snakemake.input.autograd_summary,
        eval_metrics=list(snakemake.input.eval_metrics),
    )


run_script(snakemake, main)
