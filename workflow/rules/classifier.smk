# Part 2, the CIFAR-10 classifier: train each variant once per seed (a replicate), choose its epoch by
# validation loss, evaluate that epoch on the test split, compare the variants seed by seed, and summarise what
# holds across the seeds. Plots are rules of their own that read only the compute rules' files, so changing a
# figure never retrains or re-evaluates.

# The declared checkpoint of every epoch, epoch 1 first (a pattern with the {variant} and {seed} wildcards).
EPOCH_CHECKPOINTS = [f"results/train/{RUN}/epoch_{epoch:02d}.pt" for epoch in range(1, config["train"]["epochs"] + 1)]


# Cheap jobs that read a few small files: not worth a cluster job each.
localrules:
    select_epoch,
    plot_train_loss,
    plot_evaluate_confusion,
    plot_evaluate_confused,
    compare,
    plot_compare,
    plot_val_loss_variants,
    replicates,
    paired_replicates,
    plot_replicates,


rule train:
    input:
        npz=rules.prepare_cifar10.output.npz,
    output:
        history=f"results/train/{RUN}/history.csv",
        epoch_checkpoints=EPOCH_CHECKPOINTS,
    log:
        "logs/train/{variant}_seed{seed}.log",
    benchmark:
        "benchmarks/train/{variant}_seed{seed}.tsv"
    wildcard_constraints:
        variant="|".join(VARIANTS),
        seed="|".join(map(str, SEEDS)),
    # The longest jobs of a run: started before any other that is ready, so that the shorter ones (denoising,
    # evaluation) fill the cores they leave, instead of the last training job running alone at the end.
    priority: 1
    conda:
        "../../envs/torchbasics.yaml"
    threads: lambda wildcards: threads_per_job("train", len(RUNS))
    resources:
        gpu=lambda wildcards: gpus_per_job("train"),
    params:
        seed=lambda wildcards: int(wildcards.seed),
        # only the splits it reads: widening the test split must not retrain
        split={name: config["split"][name] for name in ("train", "val")},
        train=shaping_settings(config["train"]),
        # Not an output: Snakemake deletes a failed job's outputs, and this must survive a killed job.
        resume_folder=lambda wildcards: f"results/train/.resume/{wildcards.variant}/seed{wildcards.seed}",
    script:
        "../scripts/classifier/train.py"


rule select_epoch:
    input:
        history=rules.train.output.history,
    output:
        best=f"results/train/{RUN}/best.json",
    log:
        "logs/select_epoch/{variant}_seed{seed}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        checkpoints=lambda wildcards: expand(EPOCH_CHECKPOINTS, variant=wildcards.variant, seed=wildcards.seed),
    script:
        "../scripts/classifier/select_epoch.py"


rule plot_train_loss:
    input:
        history=rules.train.output.history,
        best=rules.select_epoch.output.best,
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        png=report(
            f"results/train/{RUN}/loss.png",
            caption="../report/train_loss.rst",
            category="Training",
            subcategory="{variant} seed {seed}",
        ),
        svg=f"results/train/{RUN}/loss.svg",
    log:
        "logs/plot_train_loss/{variant}_seed{seed}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/classifier/plot_train_loss.py"


rule evaluate:
    input:
        npz=rules.prepare_cifar10.output.npz,
        best=rules.select_epoch.output.best,
        epoch_checkpoints=rules.train.output.epoch_checkpoints,
    output:
        metrics=f"results/eval/{RUN}/metrics.json",
        per_class=f"results/eval/{RUN}/per_class.csv",
        confusion=f"results/eval/{RUN}/confusion.csv",
        predictions=f"results/eval/{RUN}/predictions.csv",
        confused_images=f"results/eval/{RUN}/confused_images.npz",
    log:
        "logs/evaluate/{variant}_seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/{variant}_seed{seed}.tsv"
    conda:
        "../../envs/torchbasics.yaml"
    threads: lambda wildcards: threads_per_job("eval", len(RUNS))
    resources:
        gpu=lambda wildcards: gpus_per_job("eval"),
    params:
        split={"test": config["split"]["test"]},
        eval=shaping_settings(config["eval"]),
    script:
        "../scripts/classifier/evaluate.py"


# The first, the chosen and the last epoch's checkpoints on the validation split, class by class: how each class's
# accuracy moved over training.
rule val_per_class_by_epoch:
    input:
        npz=rules.prepare_cifar10.output.npz,
        best=rules.select_epoch.output.best,
        epoch_checkpoints=rules.train.output.epoch_checkpoints,
    output:
        table=f"results/eval/{RUN}/val_per_class_by_epoch.csv",
    log:
        "logs/val_per_class_by_epoch/{variant}_seed{seed}.log",
    benchmark:
        "benchmarks/val_per_class_by_epoch/{variant}_seed{seed}.tsv"
    conda:
        "../../envs/torchbasics.yaml"
    threads: lambda wildcards: threads_per_job("eval", len(RUNS))
    resources:
        gpu=lambda wildcards: gpus_per_job("eval"),
    params:
        split={"val": config["split"]["val"]},
        eval=shaping_settings(config["eval"]),
    script:
        "../scripts/classifier/val_per_class_by_epoch.py"


rule plot_evaluate_confusion:
    input:
        confusion=rules.evaluate.output.confusion,
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        png=report(
            f"results/eval/{RUN}/confusion.png",
            caption="../report/eval_confusion.rst",
            category="Evaluation",
            subcategory="{variant} seed {seed}",
        ),
        svg=f"results/eval/{RUN}/confusion.svg",
    log:
        "logs/plot_evaluate_confusion/{variant}_seed{seed}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/classifier/plot_evaluate_confusion.py"


rule plot_evaluate_confused:
    input:
        confused_images=rules.evaluate.output.confused_images,
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        png=report(
            f"results/eval/{RUN}/confused_images.png",
            caption="../report/eval_confused_images.rst",
            category="Evaluation",
            subcategory="{variant} seed {seed}",
        ),
        svg=f"results/eval/{RUN}/confused_images.svg",
    log:
        "logs/plot_evaluate_confused/{variant}_seed{seed}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/classifier/plot_evaluate_confused.py"


# A compared {variant} against the baseline on one seed's test images: McNemar's test and the two side by side.
rule compare:
    input:
        predictions=baseline_and_compared(rules.evaluate.output.predictions),
        metrics=baseline_and_compared(rules.evaluate.output.metrics),
        best=baseline_and_compared(rules.select_epoch.output.best),
    output:
        table=report(
            f"results/compare/{COMPARISON}/seed{{seed}}/variants.csv",
            caption="../report/compare_variants.rst",
            category="Comparison",
            subcategory=f"{COMPARISON} seed {{seed}}",
        ),
        mcnemar=f"results/compare/{COMPARISON}/seed{{seed}}/mcnemar.json",
    log:
        f"logs/compare/{COMPARISON}_seed{{seed}}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        baseline=BASELINE,
    script:
        "../scripts/classifier/compare.py"


rule plot_compare:
    input:
        per_class=baseline_and_compared(rules.evaluate.output.per_class),
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        png=report(
            f"results/compare/{COMPARISON}/seed{{seed}}/per_class_accuracy.png",
            caption="../report/compare_per_class.rst",
            category="Comparison",
            subcategory=f"{COMPARISON} seed {{seed}}",
        ),
        svg=f"results/compare/{COMPARISON}/seed{{seed}}/per_class_accuracy.svg",
    log:
        f"logs/plot_compare/{COMPARISON}_seed{{seed}}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        baseline=BASELINE,
    script:
        "../scripts/classifier/plot_compare.py"


rule plot_val_loss_variants:
    input:
        histories=per_run(rules.train.output.history),
        best=per_run(rules.select_epoch.output.best),
        plotting_code=PLOTTING_CODE["classifier"],
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
        runs=RUNS,
    script:
        "../scripts/classifier/plot_val_loss_variants.py"


# What holds across the seeds: per-seed results, each variant's mean and 95% interval, overall and per class.
rule replicates:
    input:
        metrics=per_run(rules.evaluate.output.metrics),
        per_class=per_run(rules.evaluate.output.per_class),
    output:
        per_seed=report("results/replicates/per_seed.csv", caption="../report/replicates.rst", category="Replicates"),
        variants=report("results/replicates/variants.csv", caption="../report/replicates.rst", category="Replicates"),
        per_class="results/replicates/per_class.csv",
    log:
        "logs/replicates/tables.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        runs=RUNS,
    script:
        "../scripts/classifier/replicates.py"


# A compared {variant} minus the baseline, seed by seed, and the paired t-test over the seeds.
rule paired_replicates:
    input:
        per_seed=rules.replicates.output.per_seed,
    output:
        paired=report(
            f"results/replicates/{COMPARISON}/paired.csv",
            caption="../report/replicates_paired.rst",
            category="Replicates",
            subcategory=COMPARISON,
        ),
        test=f"results/replicates/{COMPARISON}/paired_test.json",
    log:
        f"logs/replicates/paired_{COMPARISON}.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        baseline=BASELINE,
    script:
        "../scripts/classifier/paired_replicates.py"


rule plot_replicates:
    input:
        per_seed=rules.replicates.output.per_seed,
        variants=rules.replicates.output.variants,
        per_class=rules.replicates.output.per_class,
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        accuracy_png=report(
            "results/replicates/test_accuracy.png",
            caption="../report/replicates_accuracy.rst",
            category="Replicates",
        ),
        accuracy_svg="results/replicates/test_accuracy.svg",
        per_class_png=report(
            "results/replicates/per_class_accuracy.png",
            caption="../report/replicates_per_class.rst",
            category="Replicates",
        ),
        per_class_svg="results/replicates/per_class_accuracy.svg",
    log:
        "logs/replicates/plot.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/classifier/plot_replicates.py"


# Stage target: every final output of training, selection, evaluation and comparison.
rule classifier:
    input:
        classifier_targets,
