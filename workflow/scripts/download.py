"""Entry script of rule download: fetch one configured source into resources/download/, verified."""

from torchbasics.fetch import fetch
from torchbasics.runtime import run_script
from torchbasics.settings import setting_value


def main(snakemake):
    # From the config, not the params: changing them must not fetch the file again (see data.smk).
    setting = snakemake.params.setting
    download = snakemake.config["data"]["download"]
    fetch(
        snakemake.params.source,
        snakemake.output[0],
        setting_value(snakemake.config, setting.replace(".source", ".checksum")),
        retries=download["retries"],
        timeout=download["timeout_s"],
        setting=setting,
    )


run_script(snakemake, main)
