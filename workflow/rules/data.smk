# Data in: downloads (on the submitting host), then validation into the course's formats.

# Compute nodes of a cluster are often offline: downloads always run where snakemake itself runs.
localrules: download


rule download:
    output:
        "resources/download/{name}",
    wildcard_constraints:
        name="|".join(SOURCES),
    params:
        source=lambda wc: SOURCES[wc.name]["source"],
        checksum=lambda wc: SOURCES[wc.name]["checksum"],
        setting=lambda wc: SOURCE_SETTINGS[wc.name],
        retries=config["data"]["download"]["retries"],
        timeout_s=config["data"]["download"]["timeout_s"],
    log:
        "logs/download/{name}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/download.py"


rule prepare_cifar10:
    input:
        source_file("cifar10"),
    output:
        npz="resources/cifar10.npz",
        manifest="resources/cifar10.manifest.json",
    params:
        source=SOURCES["cifar10"]["source"],
        checksum=SOURCES["cifar10"]["checksum"],
        split=config["split"],
        seed=config["seed"],
    log:
        "logs/prepare_cifar10.log",
    benchmark:
        "benchmarks/prepare_cifar10.tsv"
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/prepare_cifar10.py"


rule prepare_parrot:
    input:
        lambda wc: source_file(f"parrot_{wc.which}"),
    output:
        "resources/parrot/{which}.png",
    wildcard_constraints:
        which="noisy|clean",
    params:
        checksum=lambda wc: SOURCES[f"parrot_{wc.which}"]["checksum"],
        setting=lambda wc: SOURCE_SETTINGS[f"parrot_{wc.which}"],
    log:
        "logs/prepare_parrot/{which}.log",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/prepare_parrot.py"


# Stage target: every prepared input.
rule data:
    input:
        rules.prepare_cifar10.output,
        "resources/parrot/noisy.png",
        ["resources/parrot/clean.png"] if has_clean_parrot() else [],


ALL_TARGETS.extend(rules.data.input)
