"""Entry script of rule denoise_summary: every norm's results in one table, the noisy input's quality, the best."""

import pandas as pd

from torchbasics.core.runtime import run_script
from torchbasics.data import images
from torchbasics.denoise import denoise, denoise_files, quality


def main(snakemake):
    results = pd.concat([denoise_files.read_results(table) for table in snakemake.input.tables], ignore_index=True)
    clean_path = snakemake.input.get("clean")
    reference = denoise.to_tensor(images.load_rgb(clean_path))[0] if clean_path else None
    noisy_quality = quality.measure(denoise.to_tensor(images.load_rgb(snakemake.input.noisy))[0], reference)
    denoise_files.write_results(snakemake.output.table, results)
    denoise_files.write_best(snakemake.output.best, denoise.summarise(results, noisy_quality))


run_script(snakemake, main)
