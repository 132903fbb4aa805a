"""Entry script of rule prepare_parrot: a parrot image (noisy or clean) -> 8-bit RGB PNG in resources/."""

import logging

from torchbasics import images
from torchbasics.fetch import verify_checksum
from torchbasics.runtime import run_script


def main(snakemake):
    verify_checksum(snakemake.input[0], snakemake.params.checksum,
                    setting=snakemake.params.setting.replace(".source", ".checksum"))
    width, height = images.prepare(snakemake.input[0], snakemake.output[0])
    logging.getLogger("torchbasics").info("wrote %s (%dx%d RGB)", snakemake.output[0], width, height)


run_script(snakemake, main)
