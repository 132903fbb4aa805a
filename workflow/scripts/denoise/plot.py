"""Entry script of the denoising plot rules: one figure (params.figure) from the stage's tables and images."""

import pandas as pd

from torchbasics.core.figures import save_figure
from torchbasics.core.runtime import run_script
from torchbasics.data import images
from torchbasics.denoise import denoise_files, plots


def contact_sheet(snakemake):
    rows = denoise_files.read_results(snakemake.input.table).to_dict("records")
    lrs = list(dict.fromkeys(row["lr"] for row in rows))
    alphas = list(dict.fromkeys(row["alpha"] for row in rows))
    return plots.contact_sheet(
        [images.load_rgb(row["image"]) for row in rows],
        [_quality_title(row) for row in rows],
        n_rows=len(lrs),
        n_cols=len(alphas),
        row_labels=[f"lr = {lr:g}" for lr in lrs],
        col_labels=[f"alpha = {alpha:g}" for alpha in alphas],
        title=f"{snakemake.wildcards.norm} denoising, {rows[0]['iterations']} iterations",
    )


def comparison(snakemake):
    summary = denoise_files.read_best(snakemake.input.best)
    noisy_psnr = summary["noisy"]["psnr"]
    panels = [
        (
            images.load_rgb(snakemake.input.noisy),
            "noisy input" + ("" if noisy_psnr is None else f"\nPSNR {noisy_psnr:.2f} dB"),
        )
    ]
    for norm, row in summary["best"].items():
        panels.append(
            (images.load_rgb(row["image"]), f"{norm}, lr {row['lr']:g}, alpha {row['alpha']:g}\n{_quality_title(row)}")
        )
    if snakemake.input.get("clean"):
        panels.append((images.load_rgb(snakemake.input.clean), "clean original"))
    title = (
        "The best setting of each norm, by PSNR against the clean original"
        if noisy_psnr is not None
        else "No clean original to judge by: the grid's centre setting of each norm"
    )
    return plots.comparison_figure(*zip(*panels), title=title)


def loss_curves(snakemake):
    curves = {}
    for table in snakemake.input.losses:
        losses = denoise_files.read_losses(table)
        curves[losses["norm"].iloc[0]] = {
            setting: (line["iteration"].tolist(), line["loss"].tolist())
            for setting, line in losses.groupby(["lr", "alpha"], sort=False)
        }
    return plots.loss_curves_figure(curves)


def psnr_heatmap(snakemake):
    return plots.psnr_heatmap(denoise_files.read_results(snakemake.input.table))


def _quality_title(row):
    if pd.isna(row["psnr"]):  # no clean original: NaN in a table, None in best.json
        return f"final loss {row['final_loss']:.4g}"
    return f"PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}"


FIGURES = {
    "contact_sheet": contact_sheet,
    "comparison": comparison,
    "loss_curves": loss_curves,
    "psnr_heatmap": psnr_heatmap,
}


def main(snakemake):
    figure = FIGURES[snakemake.params.figure](snakemake)
    save_figure(figure, snakemake.output.png, snakemake.output.svg)


run_script(snakemake, main)
