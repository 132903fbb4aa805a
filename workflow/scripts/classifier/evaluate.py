"""Entry script of rule evaluate: the chosen checkpoint on the test split, metrics and tables."""

from pathlib import Path

from torchbasics.classifier.evaluate import run_evaluation
from torchbasics.classifier.evaluation_files import EvalOutputs
from torchbasics.core.runtime import job_runtime, run_script


def main(snakemake):
    runtime = job_runtime("eval", snakemake.config["eval"], snakemake.params.eval, snakemake.threads)  # holds the GPU
    outputs = EvalOutputs(
        **{
            name: Path(snakemake.output[name])
            for name in ("metrics", "per_class", "confusion", "predictions", "confused_images")
        }
    )
    run_evaluation(
        snakemake.input.npz,
        snakemake.params.split,
        snakemake.input.best,
        list(snakemake.input.epoch_checkpoints),
        snakemake.wildcards.variant,
        batch_size=snakemake.params.eval["batch_size"],
        device=runtime.device,
        n_confused=snakemake.params.eval["n_confused_images"],
        outputs=outputs,
        implementation=runtime.implementation,
        gpu=runtime.gpu,
    )


run_script(snakemake, main)
