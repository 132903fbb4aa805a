"""Entry script of rule download: fetch one configured source into resources/download/, verified."""

from torchbasics.core.fetch import fetch
from torchbasics.core.runtime import run_script
from torchbasics.core.settings import configured_checksum, job_setting, source_setting


def main(snakemake):
    # From the config, not the params (settings.NOT_SHAPING_RESULTS): changing them must not fetch the file again.
    name = snakemake.wildcards.name
    checksum, _ = configured_checksum(snakemake.config, name)
    download = job_setting(snakemake.config, "data", "download")
    fetch(
        snakemake.params.source,
        snakemake.output[0],
        checksum,
        retries=download["retries"],
        timeout=download["timeout_s"],
        setting=source_setting(name),
    )


run_script(snakemake, main)
