"""Entry script of rule train: one CNN variant, a checkpoint and a history row per epoch, resumable."""

from pathlib import Path

from torchbasics.classifier.train import RunOutputs, TrainSettings, run_training
from torchbasics.core.runtime import job_runtime, run_script


def main(snakemake):
    train_config = snakemake.params.train
    runtime = job_runtime("train", snakemake.config["train"], train_config, snakemake.threads)  # holds the GPU
    settings = TrainSettings.from_config(
        snakemake.wildcards.variant, train_config, snakemake.params.seed, precision=runtime.precision
    )
    outputs = RunOutputs(
        history=Path(snakemake.output.history),
        checkpoints=[Path(path) for path in snakemake.output.epoch_checkpoints],
        val_per_class=Path(snakemake.output.val_per_class),
    )
    run_training(
        snakemake.input.npz,
        snakemake.params.split,
        settings,
        device=runtime.device,
        outputs=outputs,
        resume_folder=snakemake.params.resume_folder,
        gpu=runtime.gpu,
    )


run_script(snakemake, main)
