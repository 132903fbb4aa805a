"""Entry script of rule denoise_regions: every image's quality on the clean original's edges and flat areas."""

import pandas as pd

from torchbasics.core.errors import InputError
from torchbasics.core.runtime import run_script
from torchbasics.denoise import denoise_files, regions


def main(snakemake):
    clean_path = snakemake.input.get("clean")
    if not clean_path:  # no target asks for this file without one; a user who names it gets told why it cannot be
        raise InputError("regions.csv measures against the clean original: configure data.parrot.clean")
    results = pd.concat([denoise_files.read_results(table) for table in snakemake.input.tables], ignore_index=True)
    table = regions.region_table(clean_path, snakemake.input.noisy, results, list(snakemake.input.images))
    regions.write_regions(snakemake.output.table, table)


run_script(snakemake, main)
