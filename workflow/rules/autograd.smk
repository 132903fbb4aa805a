# Part 1.1: the Taylor series of sine, its autograd gradient against cos, and how fast the series converges.
# Compute rules write tables; the plot rules read only those tables, so a figure can be redrawn alone. Each job
# gets only the settings it uses as params, so changing one setting re-runs only the jobs that depend on it.


# Cheap jobs that read a few small files: not worth a cluster job each.
localrules:
    autograd_plot_gradient,
    autograd_plot_convergence,


rule autograd_gradients:
    output:
        table=paths.AUTOGRAD_GRADIENTS,
        summary=paths.AUTOGRAD_SUMMARY,
    log:
        "logs/autograd/gradients.log",
    conda:
        "../../envs/torchbasics.yaml"
    resources:
        gpu=lambda wildcards: gpus_per_job("autograd"),
    params:
        n_terms=AUTOGRAD["n_terms"],
        n_points=AUTOGRAD["n_points"],
        dtype=AUTOGRAD["dtype"],
        seed=config["seed"],
    script:
        "../scripts/autograd/gradients.py"


rule autograd_convergence:
    output:
        table=paths.AUTOGRAD_CONVERGENCE,
    log:
        "logs/autograd/convergence.log",
    conda:
        "../../envs/torchbasics.yaml"
    resources:
        gpu=lambda wildcards: gpus_per_job("autograd"),
    params:
        max_terms=AUTOGRAD["convergence_max_terms"],
        n_points=AUTOGRAD["convergence_points"],
    script:
        "../scripts/autograd/convergence.py"


rule autograd_plot_gradient:
    input:
        table=rules.autograd_gradients.output.table,
        summary=rules.autograd_gradients.output.summary,
        plotting_code=PLOTTING_CODE["autograd"],
    output:
        png=report(paths.AUTOGRAD_GRADIENT_FIGURE.png, caption="../report/autograd_gradient.rst", category="Autograd"),
        svg=paths.AUTOGRAD_GRADIENT_FIGURE.svg,
    log:
        "logs/autograd/plot_gradient.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="gradient",
    script:
        "../scripts/autograd/plot.py"


rule autograd_plot_convergence:
    input:
        table=rules.autograd_convergence.output.table,
        plotting_code=PLOTTING_CODE["autograd"],
    output:
        png=report(
            paths.AUTOGRAD_CONVERGENCE_FIGURE.png, caption="../report/autograd_convergence.rst", category="Autograd"
        ),
        svg=paths.AUTOGRAD_CONVERGENCE_FIGURE.svg,
    log:
        "logs/autograd/plot_convergence.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        figure="convergence",
    script:
        "../scripts/autograd/plot.py"


# Stage target: every output of part 1.1.
rule autograd:
    input:
        autograd_targets,
