"""Entry script of rule run_info: config, devices, package versions and input checksums of this run."""

from torchbasics.provenance import write_run_info
from torchbasics.runtime import run_script


def main(snakemake):
    inputs = {name: path for name, path in snakemake.input.items() if name not in ("device_files", "parrot_clean")}
    if snakemake.input.parrot_clean:
        inputs["parrot_clean"] = snakemake.input.parrot_clean[0]
    write_run_info(snakemake.output[0], snakemake.params.config, inputs, snakemake.params.sources,
                   list(snakemake.input.device_files))


run_script(snakemake, main)
