"""Entry script of rule download: fetch one configured source into resources/download/, verified."""

from torchbasics.fetch import fetch
from torchbasics.runtime import run_script


def main(snakemake):
    fetch(snakemake.params.source, snakemake.output[0], snakemake.params.checksum,
          retries=snakemake.params.retries, timeout=snakemake.params.timeout_s, setting=snakemake.params.setting)


run_script(snakemake, main)
