# Part 1.2: total-variation denoising of the parrot by normalised gradient descent, over a grid of lr x alpha,
# one job per norm. Compute rules write images and tables; the plot rules read only those.

# One norm's denoised images, in grid order (the {norm} wildcard left open).
DENOISE_IMAGES = [paths.fill(paths.DENOISE_IMAGE, image=setting.image_name) for setting in DENOISE_GRID]


# Cheap jobs that read a few small files: not worth a cluster job each.
localrules:
    denoise_summary,
    denoise_plot_contact_sheet,
    denoise_plot_comparison,
    denoise_plot_loss_curves,
    denoise_plot_psnr_heatmap,
    denoise_regions,


rule denoise_grid:
    input:
        **PARROT_IMAGES,
    output:
        images=DENOISE_IMAGES,
        table=paths.DENOISE_RESULTS,
        losses=paths.DENOISE_LOSSES,
    log:
        "logs/denoise/grid_{norm}.log",
    benchmark:
        "benchmarks/denoise_grid/{norm}.tsv"
    wildcard_constraints:
        norm="|".join(DENOISE["norms"]),
    conda:
        "../../envs/torchbasics.yaml"
    threads: lambda wildcards: cpu_share(len(DENOISE["norms"]), on_a_cluster=2)
    resources:
        gpu=lambda wildcards: gpus_per_job("denoise"),
    params:
        lr=DENOISE["lr"],
        alpha=DENOISE["alpha"],
        iterations=DENOISE["iterations"],
        implementation=DENOISE["implementation"],
    script:
        "../scripts/denoise/grid.py"


rule denoise_summary:
    input:
        **PARROT_IMAGES,
        tables=expand(rules.denoise_grid.output.table, norm=DENOISE["norms"]),
    output:
        table=paths.DENOISE_TABLE,
        best=paths.DENOISE_BEST,
    log:
        "logs/denoise/summary.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/denoise/summary.py"


rule denoise_plot_contact_sheet:
    input:
        table=rules.denoise_grid.output.table,
        images=DENOISE_IMAGES,
        plotting_code=PLOTTING_CODE["denoise"],
    output:
        png=report(
            paths.DENOISE_CONTACT_SHEET.png,
            caption="../report/denoise_contact_sheet.rst",
            category="Denoising",
            subcategory="{norm}",
        ),
        svg=paths.DENOISE_CONTACT_SHEET.svg,
    log:
        "logs/denoise/plot_contact_sheet_{norm}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="contact_sheet",
    script:
        "../scripts/denoise/plot.py"


rule denoise_plot_comparison:
    input:
        **PARROT_IMAGES,
        best=rules.denoise_summary.output.best,
        images=expand(DENOISE_IMAGES, norm=DENOISE["norms"]),
        plotting_code=PLOTTING_CODE["denoise"],
    output:
        png=report(
            paths.DENOISE_COMPARISON_FIGURE.png, caption="../report/denoise_comparison.rst", category="Denoising"
        ),
        svg=paths.DENOISE_COMPARISON_FIGURE.svg,
    log:
        "logs/denoise/plot_comparison.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="comparison",
    script:
        "../scripts/denoise/plot.py"


rule denoise_plot_loss_curves:
    input:
        losses=expand(rules.denoise_grid.output.losses, norm=DENOISE["norms"]),
        plotting_code=PLOTTING_CODE["denoise"],
    output:
        png=report(
            paths.DENOISE_LOSS_CURVES_FIGURE.png,
            caption="../report/denoise_loss_curves.rst",
            category="Denoising",
        ),
        svg=paths.DENOISE_LOSS_CURVES_FIGURE.svg,
    log:
        "logs/denoise/plot_loss_curves.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="loss_curves",
    script:
        "../scripts/denoise/plot.py"


# PSNR needs the clean original: without one the results hold no PSNR, and no target asks for this figure.
rule denoise_plot_psnr_heatmap:
    input:
        table=rules.denoise_summary.output.table,
        plotting_code=PLOTTING_CODE["denoise"],
    output:
        png=report(
            paths.DENOISE_PSNR_HEATMAP.png,
            caption="../report/denoise_psnr_heatmap.rst",
            category="Denoising",
        ),
        svg=paths.DENOISE_PSNR_HEATMAP.svg,
    log:
        "logs/denoise/plot_psnr_heatmap.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="psnr_heatmap",
    script:
        "../scripts/denoise/plot.py"


# Every image's PSNR and mean absolute error on the clean original's edges (top decile of its gradient magnitude)
# and flat areas (lower half), the noisy input's too. Like the PSNR heatmap, only a config with a clean original
# asks for it.
rule denoise_regions:
    input:
        **PARROT_IMAGES,
        images=expand(DENOISE_IMAGES, norm=DENOISE["norms"]),
        # each image's norm, lr and alpha
        tables=expand(rules.denoise_grid.output.table, norm=DENOISE["norms"]),
    output:
        table=paths.DENOISE_REGIONS,
    log:
        "logs/denoise/regions.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/denoise/regions.py"


# Stage target: every output of part 1.2.
rule denoise:
    input:
        denoise_targets,
