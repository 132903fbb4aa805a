"""Entry script of rule prepare_parrot: a parrot image (noisy or clean) -> 8-bit RGB PNG in resources/."""

import logging

from torchbasics.core.fetch import verify_checksum
from torchbasics.core.runtime import run_script
from torchbasics.core.settings import configured_checksum
from torchbasics.data import images


def main(snakemake):
    # The checksum from the config, not the params: a new checksum for the same image must not re-denoise it
    # (rule verify_source checks it then; see data.smk).
    verify_checksum(
        snakemake.input.source, *configured_checksum(snakemake.config, f"parrot_{snakemake.wildcards.which}")
    )
    width, height = images.prepare(snakemake.input.source, snakemake.output[0])
    logging.getLogger("torchbasics").info("wrote %s (%dx%d RGB)", snakemake.output[0], width, height)


run_script(snakemake, main)
