"""Part 1.2 (workflow/rules/denoise.smk): total-variation denoising, its norms, grid, tables, quality and figures."""
