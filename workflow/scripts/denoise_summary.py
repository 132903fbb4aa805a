"""Entry script of rule denoise_summary: every norm's results in one table, the noisy input's quality, the best."""

from torchbasics import denoise, images, quality
from torchbasics.io import write_json
from torchbasics.runtime import run_script
from torchbasics.tables import read_csv, write_csv


def main(snakemake):
    rows = [row for table in snakemake.input.tables for row in read_csv(table)]
    clean_path = snakemake.input.get("clean")
    reference = denoise.to_tensor(images.load_rgb(clean_path))[0] if clean_path else None
    noisy_quality = quality.measure(denoise.to_tensor(images.load_rgb(snakemake.input.noisy))[0], reference)
    write_csv(snakemake.output.table, rows, denoise.RESULT_COLUMNS)
    write_json(snakemake.output.best, denoise.summarise(rows, noisy_quality))


run_script(snakemake, main)
