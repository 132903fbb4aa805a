"""Entry script of rule autograd_gradients: the series' autograd gradient at pi/4 and at seeded uniform points."""

import logging

from torchbasics.autograd import autograd, autograd_files
from torchbasics.core.runtime import job_runtime, run_script


def main(snakemake):
    params = snakemake.params
    runtime = job_runtime("autograd", snakemake.config["autograd"], dict(params.items()), snakemake.threads)
    device = runtime.device
    study = autograd.gradient_study(params.n_terms, params.n_points, params.seed, params.dtype, device)
    autograd_files.write_gradients(snakemake.output.table, study.rows())
    summary = study.summary(device) | {"gpu": runtime.gpu}
    autograd_files.write_summary(snakemake.output.summary, summary)
    logging.getLogger("torchbasics").info(
        "dz/dx at pi/4 = %.9f (error %.2g); max error over %d points %.2g on %s",
        summary["gradient_at_quarter_pi"],
        summary["error_at_quarter_pi"],
        summary["n_points"],
        summary["max_abs_error"],
        device,
    )


run_script(snakemake, main)
