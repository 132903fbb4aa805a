"""Entry script of rule denoise_grid: one norm's grid of (lr, alpha) settings, each image, its quality, its losses."""

from torchbasics.core.runtime import job_runtime, run_script
from torchbasics.data import images
from torchbasics.denoise import denoise, denoise_files
from torchbasics.denoise.grid import grid_settings


def main(snakemake):
    params = snakemake.params
    runtime = job_runtime("denoise", snakemake.config["denoise"], dict(params.items()), snakemake.threads)
    noisy = images.load_rgb(snakemake.input.noisy)
    clean_path = snakemake.input.get("clean")  # optional: without it, the quality columns stay empty
    clean = images.load_rgb(clean_path) if clean_path else None
    denoise.check_reference(noisy, clean, snakemake.input.noisy, clean_path)
    grid = grid_settings(params.lr, params.alpha)  # in the order of snakemake.output.images
    solutions = denoise.solve_grid(
        denoise.to_tensor(noisy, runtime.device),
        grid,
        snakemake.wildcards.norm,
        params.iterations,
        runtime.implementation,
    )
    reference = None if clean is None else denoise.to_tensor(clean)
    rows = []
    for solution, target in zip(solutions, snakemake.output.images):
        pixels = denoise.to_pixels(solution.image)
        images.save_png(pixels, target)
        rows.append(denoise.result_row(snakemake.wildcards.norm, solution, pixels, reference, target))
    denoise_files.write_results(snakemake.output.table, rows)
    denoise_files.write_losses(snakemake.output.losses, denoise.loss_rows(snakemake.wildcards.norm, solutions))


run_script(snakemake, main)
