"""The workflow as a whole: lint, dry runs, config validation, and the data stage through snakemake."""

import json
import re

import numpy as np
from conftest import REPO, copy_workflow, run_snakemake
from launch import snakemake
from make_inputs import write_imagefolder_archive, write_parrot_pair, write_smoke_inputs


def test_lint_reports_nothing():
    result = snakemake("--lint", cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_dry_run_of_the_default_config(tmp_path):
    # the default config downloads everything: a dry run plans the downloads and every stage after them
    result = run_snakemake(tmp_path, "-n", configfiles=("config.yaml",), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for rule in ("download", "prepare_cifar10", "prepare_parrot", "all"):
        assert f"rule {rule}:" in result.stdout or f"localrule {rule}:" in result.stdout, rule


def test_dry_run_of_the_smoke_config(tmp_path):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n")
    assert "download" not in result.stdout  # the smoke config reads local files only


def planned_jobs(dry_run_stdout):
    """Each job a dry run lists, as (rule, {threads, priority, resources}); the listing leaves out threads 1 and
    priority 0."""
    jobs = []
    for line in map(str.strip, dry_run_stdout.splitlines()):
        header = re.fullmatch(r"(?:local)?rule (\w+):", line)
        if header:
            jobs.append((header[1], {"threads": 1, "priority": 0, "resources": {}}))
        elif jobs and line.startswith(("threads:", "priority:")):
            key, value = line.split(":")
            jobs[-1][1][key] = int(value)
        elif jobs and line.startswith("resources:"):
            jobs[-1][1]["resources"] = dict(item.split("=") for item in line.removeprefix("resources:").split(", "))
    return jobs


def scheduling(workdir, *args):
    """{rule: {(threads, gpu resource, priority)}} of the CNN and denoising jobs a dry run of the smoke config plans."""
    planned = {}
    for rule, job in planned_jobs(run_snakemake(workdir, "-n", "--resources", "gpu=1", *args).stdout):
        if rule in ("train", "evaluate", "denoise_grid"):
            planned.setdefault(rule, set()).add((job["threads"], job["resources"].get("gpu"), job["priority"]))
    return planned


def test_on_a_machine_without_a_gpu_the_jobs_share_the_cores_and_claim_no_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no job may see a GPU, whatever this machine has
    write_smoke_inputs(tmp_path)
    # the smoke config trains 2 variants x 2 seeds (four CNN jobs per rule) and denoises with 2 norms; training,
    # the longest, starts first
    assert scheduling(tmp_path, "--cores", "8") == {
        "train": {(2, "0", 1)},
        "evaluate": {(2, "0", 0)},
        "denoise_grid": {(4, "0", 0)},
    }
    on_two_cores = scheduling(tmp_path, "--cores", "2")
    assert on_two_cores["train"] == {(1, "0", 1)} and on_two_cores["denoise_grid"] == {(1, "0", 0)}
    # asked for by name, a GPU is claimed (the job then says plainly why it cannot use one)
    assert scheduling(tmp_path, "--cores", "8", "--config", "device=cuda")["train"] == {(4, "1", 1)}


def test_jobs_that_may_use_a_gpu_claim_one_unless_told_to_use_the_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    write_smoke_inputs(tmp_path)
    planned = scheduling(tmp_path, "--cores", "8")
    assert planned["train"] == {(4, "1", 1)} and planned["evaluate"] == {(4, "1", 0)}
    assert planned["denoise_grid"] == {(4, "1", 0)}  # denoising claims a GPU like training
    on_the_cpu = scheduling(tmp_path, "--cores", "8", "--config", "train={device: cpu}")
    assert on_the_cpu["train"] == {(2, "0", 1)} and on_the_cpu["evaluate"] == {(4, "1", 0)}


def test_the_report_stage_may_be_included_before_the_stages_it_reads(tmp_path):
    workflow = copy_workflow(tmp_path / "workflow")
    snakefile = workflow / "Snakefile"
    report_include = 'include: "workflow/rules/report.smk"\n'
    first_stage = 'include: "workflow/rules/data.smk"\n'
    text = snakefile.read_text()
    assert report_include in text and first_stage in text
    snakefile.write_text(text.replace(report_include, "").replace(first_stage, report_include + first_stage))
    workdir = tmp_path / "work"
    write_smoke_inputs(workdir)
    result = run_snakemake(workdir, "-n", workflow=workflow)
    for rule in ("summary", "run_info", "train"):  # rows of the dry run's job table
        assert re.search(rf"^{rule}\s+\d+$", result.stdout, re.MULTILINE), rule


def write_data_inputs(workdir):
    archive = write_imagefolder_archive(workdir / "cifar-folders.tar.gz", per_class_train=30, per_class_test=5)
    write_parrot_pair(workdir / "smoke-data")
    return archive


DATA_SPLIT = "split={train: [0, 200], val: [200, 300], test: [300, 350]}"


def test_data_stage_from_an_image_folder_archive(tmp_path):
    archive = write_data_inputs(tmp_path)
    run_snakemake(tmp_path, "data", "--config", f"data={{cifar10: {{source: {archive.name}}}}}", DATA_SPLIT)
    with np.load(tmp_path / "resources" / "cifar10.npz") as data:
        assert data["X"].shape == (350, 32, 32, 3)
    manifest = json.loads((tmp_path / "resources" / "cifar10.manifest.json").read_text())
    assert manifest["source_format"] == "imagefolder"
    splits = json.loads((tmp_path / "resources" / "cifar10.splits.json").read_text())
    assert all(count > 0 for count in splits["val"]["per_class"].values())
    assert (tmp_path / "resources" / "parrot" / "noisy.png").exists()
    assert (tmp_path / "logs" / "prepare_cifar10.log").exists()
    # the archive's training pool is shuffled with the seed: a new seed makes a new npz
    again = run_snakemake(
        tmp_path, "-n", "data", "--config", f"data={{cifar10: {{source: {archive.name}}}}}", DATA_SPLIT, "seed=7"
    )
    assert "rule prepare_cifar10:" in again.stdout


def test_truncated_archive_fails_clearly_and_leaves_no_resources(tmp_path):
    archive = write_data_inputs(tmp_path)
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    result = run_snakemake(
        tmp_path,
        "resources/cifar10.npz",
        "--config",
        f"data={{cifar10: {{source: {archive.name}}}}}",
        DATA_SPLIT,
        check=False,
    )
    assert result.returncode != 0
    assert "corrupt or truncated archive" in result.stderr
    assert not [path for path in (tmp_path / "resources").rglob("*") if path.is_file()]


def test_file_url_goes_through_the_download_rule(tmp_path):
    archive = write_data_inputs(tmp_path)
    run_snakemake(
        tmp_path,
        "resources/cifar10.npz",
        "--config",
        f"data={{cifar10: {{source: '{archive.resolve().as_uri()}'}}}}",
        DATA_SPLIT,
    )
    assert (tmp_path / "resources" / "download" / "cifar10").read_bytes() == archive.read_bytes()


def test_checksum_mismatch_fails_clearly(tmp_path):
    archive = write_data_inputs(tmp_path)
    wrong = "sha256:" + "0" * 64
    result = run_snakemake(
        tmp_path,
        "resources/cifar10.npz",
        "--config",
        f"data={{cifar10: {{source: {archive.name}, checksum: '{wrong}'}}}}",
        DATA_SPLIT,
        check=False,
    )
    assert result.returncode != 0
    assert "checksum mismatch" in result.stderr
    assert not (tmp_path / "resources" / "cifar10.npz").exists()


def test_malformed_config_is_refused_at_start_up(tmp_path):
    for override, message in [
        ("seed=-3", "-3 is less than the minimum of 0"),
        ("split={train: [0, 10], val: [5, 20], test: [20, 30]}", "split.train and split.val overlap"),
        ("data={cifar10: {checksum: md5:xyz}}", "'md5:xyz' does not match"),
        ("train={epochs: 0}", "0 is less than the minimum of 1"),
    ]:
        result = run_snakemake(tmp_path, "-n", "--config", override, check=False)
        assert result.returncode != 0, override
        assert message in result.stdout + result.stderr, override
