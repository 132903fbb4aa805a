"""Entry script of rule evaluate: the chosen checkpoint on the test split, metrics and tables."""

from pathlib import Path

import torch

from torchbasics.classifier.evaluate import run_evaluation
from torchbasics.classifier.evaluation_files import EvalOutputs
from torchbasics.core.runtime import claim_device, run_script


def main(snakemake):
    torch.set_num_threads(snakemake.threads)
    outputs = EvalOutputs(
        **{
            name: Path(snakemake.output[name])
            for name in ("metrics", "per_class", "confusion", "predictions", "confused_images")
        }
    )
    # From the config, not the params: a change of device alone must not rerun the job (see classifier.smk).
    device, gpu_claim = claim_device(snakemake.config["eval"]["device"])  # held while evaluating
    run_evaluation(
        snakemake.input.npz,
        snakemake.params.split,
        snakemake.input.best,
        list(snakemake.input.epoch_checkpoints),
        snakemake.wildcards.variant,
        batch_size=snakemake.params.eval["batch_size"],
        device=device,
        n_confused=snakemake.params.eval["n_confused_images"],
        outputs=outputs,
        implementation=snakemake.params.eval["implementation"],
    )


run_script(snakemake, main)
