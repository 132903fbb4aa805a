"""Entry script of rule autograd_convergence: max error of the series and its gradient against its length."""

import logging

from torchbasics.autograd import autograd, autograd_files
from torchbasics.core.runtime import job_runtime, run_script


def main(snakemake):
    params = snakemake.params
    runtime = job_runtime("autograd", snakemake.config["autograd"], dict(params.items()), snakemake.threads)
    device = runtime.device
    rows = [
        row
        for dtype in autograd.DTYPES
        for row in autograd.convergence(params.max_terms, params.n_points, dtype, device)
    ]
    autograd_files.write_convergence(snakemake.output.table, rows)
    for row in rows:
        if row["n_terms"] == params.max_terms:
            logging.getLogger("torchbasics").info(
                "%d terms, %s: max value error %.2g, max gradient error %.2g",
                row["n_terms"],
                row["dtype"],
                row["max_value_error"],
                row["max_gradient_error"],
            )


run_script(snakemake, main)
