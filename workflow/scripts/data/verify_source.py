"""Entry script of rule verify_source: a source file checked against its configured checksum, and a record of it."""

from torchbasics.core.fetch import verify_checksum
from torchbasics.core.io import write_json
from torchbasics.core.runtime import run_script
from torchbasics.core.settings import source_setting


def main(snakemake):
    setting = source_setting(snakemake.wildcards.name, "checksum")
    checksum = verify_checksum(snakemake.input[0], snakemake.params.checksum, setting=setting)
    write_json(
        snakemake.output[0], {"source": snakemake.params.source, "file": snakemake.input[0], "checksum": checksum}
    )


run_script(snakemake, main)
