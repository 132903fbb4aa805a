# Data in: downloads (on the submitting host), a check of each source against its checksum, then validation
# into the course's formats. Each job's params hold only what shapes its output, so that a new checksum or a
# new split re-prepares nothing and retrains nothing (see the comments at each rule).


# Compute nodes of a cluster are often offline: downloads always run where snakemake itself runs. Verifying
# and recording the split are cheap reads.
localrules:
    download,
    verify_source,
    cifar10_splits,


rule download:
    output:
        paths.DOWNLOAD,
    log:
        "logs/download/{name}.log",
    wildcard_constraints:
        name="|".join(SOURCES),
    conda:
        "../../envs/torchbasics.yaml"
    params:
        # Only the URL: the checksum, retries and time-out are read from the config by the script, so that
        # changing them fetches nothing again (rule verify_source checks the file against a new checksum).
        source=lambda wc: SOURCES[wc.name]["source"],
    script:
        "../scripts/data/download.py"


# A source against its checksum, rerun when the checksum changes. The prepare rules check the checksum as well,
# read from the config rather than their params: a new checksum for the same file then re-prepares nothing (and
# retrains nothing), and is still checked, here. (Not an ancient() input of the prepare rules instead: a job
# downstream of one that must rerun has its own reasons to rerun left unchecked by Snakemake 9, so a new
# checksum given together with, say, a new seed would hide the seed's change.)
rule verify_source:
    input:
        lambda wc: source_file(wc.name),
    output:
        paths.VERIFIED,
    log:
        "logs/verify_source/{name}.log",
    wildcard_constraints:
        name="|".join(SOURCES),
    conda:
        "../../envs/torchbasics.yaml"
    params:
        source=lambda wc: SOURCES[wc.name]["source"],
        checksum=lambda wc: SOURCES[wc.name]["checksum"],
    script:
        "../scripts/data/verify_source.py"


rule prepare_cifar10:
    input:
        source=source_file("cifar10"),
    output:
        npz=paths.CIFAR10,
        manifest=paths.CIFAR10_MANIFEST,
    log:
        "logs/prepare_cifar10.log",
    benchmark:
        "benchmarks/prepare_cifar10.tsv"
    conda:
        "../../envs/torchbasics.yaml"
    params:
        source=SOURCES["cifar10"]["source"],
        # The seed only where it shapes the npz (an image-folder archive's shuffle); not the split, which is
        # applied where the npz is read.
        seed=lambda wc: cifar10_shuffle_seed(source_file("cifar10"), config["seed"]),
    script:
        "../scripts/data/prepare_cifar10.py"


# The images of each class in each split, and the check that every split holds every class; training and
# evaluation check the splits they read again, so nothing waits for this record.
rule cifar10_splits:
    input:
        npz=rules.prepare_cifar10.output.npz,
    output:
        paths.CIFAR10_SPLITS,
    log:
        "logs/cifar10_splits.log",
    conda:
        "../../envs/torchbasics.yaml"
    params:
        split=config["split"],
    script:
        "../scripts/data/cifar10_splits.py"


rule prepare_parrot:
    input:
        source=lambda wc: source_file(f"parrot_{wc.which}"),
    output:
        paths.PARROT,
    log:
        "logs/prepare_parrot/{which}.log",
    wildcard_constraints:
        which="noisy|clean",
    conda:
        "../../envs/torchbasics.yaml"
    script:
        "../scripts/data/prepare_parrot.py"


# Stage target: every prepared input.
rule data:
    input:
        data_targets,
