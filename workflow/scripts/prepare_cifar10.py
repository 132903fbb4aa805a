"""Entry script of rule prepare_cifar10: any accepted CIFAR-10 source -> the course's npz and a manifest."""

from torchbasics import cifar10
from torchbasics.fetch import verify_checksum
from torchbasics.runtime import run_script
from torchbasics.settings import setting_value


def main(snakemake):
    # The checksum from the config, not the params: a new checksum for the same file must not re-prepare it
    # (rule verify_source checks it then; see data.smk).
    checksum_setting = snakemake.params.setting.replace(".source", ".checksum")
    verify_checksum(snakemake.input.source, setting_value(snakemake.config, checksum_setting), setting=checksum_setting)
    cifar10.prepare(
        snakemake.input.source,
        snakemake.output.npz,
        snakemake.output.manifest,
        source=snakemake.params.source,
        seed=snakemake.params.seed,
    )


run_script(snakemake, main)
