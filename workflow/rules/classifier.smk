# Part 2, the CIFAR-10 classifier: train each variant, choose its epoch by validation loss, evaluate that epoch on
# the test split, compare the variants. Plots are rules of their own that read only the compute rules' files, so
# changing a figure never retrains or re-evaluates.

# The declared checkpoint of every epoch, epoch 1 first (a pattern with the {variant} wildcard).
EPOCH_CHECKPOINTS = [
    f"results/train/{{variant}}/epoch_{epoch:02d}.pt" for epoch in range(1, config["train"]["epochs"] + 1)
]


# Cheap jobs that read a few small files: not worth a cluster job each.
localrules:
    select_epoch,
    plot_train_loss,
    plot_evaluate_confusion,
    plot_evaluate_confused,
    compare,
    plot_compare,
    plot_val_loss_variants,


rule train:
    input:
        npz=rules.prepare_cifar10.output.npz,
    output:
        history="results/train/{variant}/history.csv",
        epoch_checkpoints=EPOCH_CHECKPOINTS,
    log:
        "logs/train/{variant}.log",
    benchmark:
        "benchmarks/train/{variant}.tsv"
    wildcard_constraints:
        variant="|".join(VARIANTS),
    conda:
        "../../envs/torchbasics.yaml"
    threads: 4
    resources:
        gpu=1,
    params:
        seed=config["seed"],
        # only the splits it reads: widening the test split must not retrain
        split={name: config["split"][name] for name in ("train", "val")},
        train=shaping_settings(config["train"]),
        # Not an output: Snakemake deletes a failed job's outputs, and this must survive a killed job.
        resume_folder=lambda wildcards: f"results/train/.resume/{wildcards.variant}",
    script:
        "../scripts/train.py"


rule select_epoch:
    input:
        history=rules.train.output.history,
    output:
        best="results/train/{variant}/best.json",
    log:
        "logs/select_epoch/{variant}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        checkpoints=lambda wildcards: expand(EPOCH_CHECKPOINTS, variant=wildcards.variant),
    script:
        "../scripts/select_epoch.py"


rule plot_train_loss:
    input:
        history=rules.train.output.history,
        best=rules.select_epoch.output.best,
        plotting_code=PLOTTING_CODE["part2"],
    output:
        png=report(
            "results/train/{variant}/loss.png",
            caption="../report/train_loss.rst",
            category="Training",
            subcategory="{variant}",
        ),
        svg="results/train/{variant}/loss.svg",
    log:
        "logs/plot_train_loss/{variant}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/plot_train_loss.py"


rule evaluate:
    input:
        npz=rules.prepare_cifar10.output.npz,
        best=rules.select_epoch.output.best,
        epoch_checkpoints=rules.train.output.epoch_checkpoints,
    output:
        metrics="results/eval/{variant}/metrics.json",
        per_class="results/eval/{variant}/per_class.csv",
        confusion="results/eval/{variant}/confusion.csv",
        predictions="results/eval/{variant}/predictions.csv",
        confused_images="results/eval/{variant}/confused_images.npz",
    log:
        "logs/evaluate/{variant}.log",
    benchmark:
        "benchmarks/evaluate/{variant}.tsv"
    conda:
        "../../envs/torchbasics.yaml"
    threads: 4
    resources:
        gpu=1,
    params:
        split={"test": config["split"]["test"]},
        eval=shaping_settings(config["eval"]),
    script:
        "../scripts/evaluate.py"


rule plot_evaluate_confusion:
    input:
        confusion=rules.evaluate.output.confusion,
        plotting_code=PLOTTING_CODE["part2"],
    output:
        png=report(
            "results/eval/{variant}/confusion.png",
            caption="../report/eval_confusion.rst",
            category="Evaluation",
            subcategory="{variant}",
        ),
        svg="results/eval/{variant}/confusion.svg",
    log:
        "logs/plot_evaluate_confusion/{variant}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/plot_evaluate_confusion.py"


rule plot_evaluate_confused:
    input:
        confused_images=rules.evaluate.output.confused_images,
        plotting_code=PLOTTING_CODE["part2"],
    output:
        png=report(
            "results/eval/{variant}/confused_images.png",
            caption="../report/eval_confused_images.rst",
            category="Evaluation",
            subcategory="{variant}",
        ),
        svg="results/eval/{variant}/confused_images.svg",
    log:
        "logs/plot_evaluate_confused/{variant}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/plot_evaluate_confused.py"


rule compare:
    input:
        predictions=expand(rules.evaluate.output.predictions, variant=COMPARED_VARIANTS),
        metrics=expand(rules.evaluate.output.metrics, variant=COMPARED_VARIANTS),
        best=expand(rules.select_epoch.output.best, variant=COMPARED_VARIANTS),
    output:
        table=report(
            "results/compare/variants.csv",
            caption="../report/compare_variants.rst",
            category="Comparison",
        ),
        mcnemar="results/compare/mcnemar.json",
    log:
        "logs/compare.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        variants=COMPARED_VARIANTS,
    script:
        "../scripts/compare.py"


rule plot_compare:
    input:
        per_class=expand(rules.evaluate.output.per_class, variant=COMPARED_VARIANTS),
        plotting_code=PLOTTING_CODE["part2"],
    output:
        png=report(
            "results/compare/per_class_accuracy.png",
            caption="../report/compare_per_class.rst",
            category="Comparison",
        ),
        svg="results/compare/per_class_accuracy.svg",
    log:
        "logs/plot_compare.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        variants=COMPARED_VARIANTS,
    script:
        "../scripts/plot_compare.py"


rule plot_val_loss_variants:
    input:
        histories=expand(rules.train.output.history, variant=VARIANTS),
        best=expand(rules.select_epoch.output.best, variant=VARIANTS),
        plotting_code=PLOTTING_CODE["part2"],
    output:
        png=report(
            "results/train/val_loss.png",
            caption="../report/train_val_loss.rst",
            category="Training",
        ),
        svg="results/train/val_loss.svg",
    log:
        "logs/plot_val_loss_variants.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        variants=VARIANTS,
    script:
        "../scripts/plot_val_loss_variants.py"


# Stage target: every final output of training, selection, evaluation and comparison.
rule classifier:
    input:
        classifier_targets,
