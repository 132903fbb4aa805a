"""Entry script of rule prepare_cifar10: any accepted CIFAR-10 source -> the course's npz and a manifest."""

from torchbasics.core.fetch import verify_checksum
from torchbasics.core.runtime import run_script
from torchbasics.core.settings import configured_checksum
from torchbasics.data import cifar10


def main(snakemake):
    # The checksum from the config, not the params: a new checksum for the same file must not re-prepare it
    # (rule verify_source checks it then; see data.smk).
    verify_checksum(snakemake.input.source, *configured_checksum(snakemake.config, "cifar10"))
    cifar10.prepare(
        snakemake.input.source,
        snakemake.output.npz,
        snakemake.output.manifest,
        source=snakemake.params.source,
        seed=snakemake.params.seed,
    )


run_script(snakemake, main)
