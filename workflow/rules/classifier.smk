# Part 2, the CIFAR-10 classifier: train each variant once per seed (a replicate), choose its epoch by
# validation loss, evaluate that epoch on the test split, compare the variants seed by seed, and summarise what
# holds across the seeds. Plots are rules of their own that read only the compute rules' files, so changing a
# figure never retrains or re-evaluates.

# The declared checkpoint of every epoch, epoch 1 first (a pattern with the {variant} and {seed} wildcards).
EPOCH_CHECKPOINTS = [paths.epoch_checkpoint(epoch) for epoch in range(1, config["train"]["epochs"] + 1)]


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
        history=paths.TRAIN_HISTORY,
        val_per_class=paths.TRAIN_VAL_PER_CLASS,
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
        resume_folder=lambda wildcards: paths.fill(paths.TRAIN_RESUME, **wildcards),
    script:
        "../scripts/classifier/train.py"


rule select_epoch:
    input:
        history=rules.train.output.history,
    output:
        best=paths.TRAIN_BEST,
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
            paths.TRAIN_LOSS_FIGURE.png,
            caption="../report/train_loss.rst",
            category="Training",
            subcategory="{variant} seed {seed}",
        ),
        svg=paths.TRAIN_LOSS_FIGURE.svg,
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
        metrics=paths.EVAL_METRICS,
        per_class=paths.EVAL_PER_CLASS,
        confusion=paths.EVAL_CONFUSION,
        predictions=paths.EVAL_PREDICTIONS,
        confused_images=paths.EVAL_CONFUSED_IMAGES,
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


rule plot_evaluate_confusion:
    input:
        confusion=rules.evaluate.output.confusion,
        plotting_code=PLOTTING_CODE["classifier"],
    output:
        png=report(
            paths.EVAL_CONFUSION_FIGURE.png,
            caption="../report/eval_confusion.rst",
            category="Evaluation",
            subcategory="{variant} seed {seed}",
        ),
        svg=paths.EVAL_CONFUSION_FIGURE.svg,
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
            paths.EVAL_CONFUSED_FIGURE.png,
            caption="../report/eval_confused_images.rst",
            category="Evaluation",
            subcategory="{variant} seed {seed}",
        ),
        svg=paths.EVAL_CONFUSED_FIGURE.svg,
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
            against_baseline(paths.COMPARE_TABLE),
            caption="../report/compare_variants.rst",
            category="Comparison",
            subcategory=f"{COMPARISON} seed {{seed}}",
        ),
        mcnemar=against_baseline(paths.COMPARE_MCNEMAR),
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
            against_baseline(paths.COMPARE_FIGURE.png),
            caption="../report/compare_per_class.rst",
            category="Comparison",
            subcategory=f"{COMPARISON} seed {{seed}}",
        ),
        svg=against_baseline(paths.COMPARE_FIGURE.svg),
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
            paths.VAL_LOSS_FIGURE.png,
            caption="../report/train_val_loss.rst",
            category="Training",
        ),
        svg=paths.VAL_LOSS_FIGURE.svg,
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
        per_seed=report(paths.REPLICATES_PER_SEED, caption="../report/replicates.rst", category="Replicates"),
        variants=report(paths.REPLICATES_VARIANTS, caption="../report/replicates.rst", category="Replicates"),
        per_class=paths.REPLICATES_PER_CLASS,
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
            against_baseline(paths.REPLICATES_PAIRED),
            caption="../report/replicates_paired.rst",
            category="Replicates",
            subcategory=COMPARISON,
        ),
        test=against_baseline(paths.REPLICATES_PAIRED_TEST),
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
            paths.REPLICATES_ACCURACY_FIGURE.png,
            caption="../report/replicates_accuracy.rst",
            category="Replicates",
        ),
        accuracy_svg=paths.REPLICATES_ACCURACY_FIGURE.svg,
        per_class_png=report(
            paths.REPLICATES_PER_CLASS_FIGURE.png,
            caption="../report/replicates_per_class.rst",
            category="Replicates",
        ),
        per_class_svg=paths.REPLICATES_PER_CLASS_FIGURE.svg,
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
