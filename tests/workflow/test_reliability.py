"""Reliability through Snakemake: a user's file is never the pipeline's output, numbers are read as people write them,
and a change reruns only what it affects (the page's own checks: test_summary.py)."""

import re
import shlex
import shutil

import pytest
from conftest import REPO, planned_rules, run_snakemake
from make_inputs import write_smoke_inputs

from torchbasics.core.errors import InputError
from torchbasics.core.fetch import fetch


def planned_jobs(result) -> list[str]:
    return planned_rules(result.stdout)


# ------------------------------------------------------------------- 1. a source the pipeline itself writes


@pytest.mark.parametrize(
    "source", ["resources/cifar10.npz", "results/mine.npz", "resources/download/cifar10", "FILE_URL"]
)
def test_a_source_the_pipeline_writes_is_refused_before_any_job_and_left_alone(tmp_path, source):
    write_smoke_inputs(tmp_path)
    if source == "FILE_URL":
        source = (tmp_path / "resources" / "cifar10.npz").as_uri()
        user_file = tmp_path / "resources" / "cifar10.npz"
    else:
        user_file = tmp_path / source
    user_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "smoke-data" / "cifar10.npz", user_file)
    content = user_file.read_bytes()
    result = run_snakemake(tmp_path, "data", "--config", f"data={{cifar10: {{source: '{source}'}}}}", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"config data.cifar10.source = '{source}' is the pipeline's own output" in output
    assert "Cyclic dependency" not in output and not planned_jobs(result)
    assert user_file.read_bytes() == content


def test_a_source_outside_the_pipelines_folders_is_taken(tmp_path):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n", "data", "--config", "data={cifar10: {source: smoke-data/cifar10.npz}}")
    assert "prepare_cifar10" in planned_jobs(result)


# ------------------------------------------------------------------------------- 3. numbers as people write them


def test_a_learning_rate_of_3e_4_validates_from_the_command_line(tmp_path):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n", "--config", "train={lr: 3e-4}")
    assert "is not of type 'number'" not in result.stdout + result.stderr


def test_a_learning_rate_of_3e_4_validates_from_a_config_file(tmp_path):
    write_smoke_inputs(tmp_path)
    extra = tmp_path / "mine.yaml"
    extra.write_text("train:\n  lr: 3e-4\ndenoise:\n  lr: [1E-1, 2.7]\n")
    result = run_snakemake(
        tmp_path, "-n", "--configfile", str(REPO / "config.yaml"), str(REPO / "tests" / "smoke.yaml"), str(extra)
    )
    assert "lr0.1_alpha" in result.stdout  # the denoising grid got the number


# ------------------------------------------- 4. integers (a failing job's log: tests/unit/test_runtime.py)


def test_whole_float_epochs_and_split_are_taken_as_integers(tmp_path):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(
        tmp_path,
        "-n",
        "--config",
        "train={epochs: 2.0}",
        "split={train: [0, 2000.0], val: [2000, 2500], test: [2500, 3000]}",
    )
    assert "results/train/plain/seed546/epoch_02.pt" in result.stdout


def test_a_fractional_epoch_count_is_refused_naming_the_key(tmp_path):
    write_smoke_inputs(tmp_path)
    result = run_snakemake(tmp_path, "-n", "--config", "train={epochs: 2.5}", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "2.5 is not of type 'integer'" in output and "['train']['epochs']" in output


# ------------------------------------------------------------------------ 5. rerun only what a change affects


def test_a_checksum_added_to_the_same_source_only_checks_it(smoke):
    npz = smoke.workdir / "smoke-data" / "cifar10.npz"
    from torchbasics.core.fetch import file_digest

    checksum = "sha256:" + file_digest(npz, "sha256")
    result = run_snakemake(
        smoke.workdir,
        "-n",
        "--config",
        f"data={{cifar10: {{source: smoke-data/cifar10.npz, checksum: '{checksum}'}}}}",
        workflow=smoke.workflow,
    )
    # only the check: nothing prepared, trained or re-rendered (the page records the inputs' own sha256 already)
    assert set(planned_jobs(result)) == {"verify_source", "all"}


def test_a_new_test_split_retrains_nothing(smoke):
    result = run_snakemake(
        smoke.workdir,
        "-n",
        "--config",
        "split={train: [0, 2000], val: [2000, 2500], test: [2500, 2900]}",
        workflow=smoke.workflow,
    )
    jobs = set(planned_jobs(result))
    assert "evaluate" in jobs and "cifar10_splits" in jobs
    assert "prepare_cifar10" not in jobs
    # rule train's params must hold only the splits it reads (train, val), rule evaluate's only the test split
    assert not jobs & {"train", "select_epoch"}, jobs


def test_a_new_seed_does_not_reprepare_an_npz_source(smoke):
    result = run_snakemake(smoke.workdir, "-n", "--config", "seed=7", workflow=smoke.workflow)
    jobs = set(planned_jobs(result))
    assert "autograd_gradients" in jobs and "prepare_cifar10" not in jobs
    # the smoke config's training replicates have seeds of their own: the run's seed does not retrain them
    assert "train" not in jobs


def test_a_new_replicate_trains_only_its_own_runs(smoke):
    result = run_snakemake(smoke.workdir, "-n", "--config", "seeds=[546, 547, 9]", workflow=smoke.workflow)
    trained = re.findall(r"rule train:\n\s+input: .*\n\s+output: (\S+)", result.stdout)
    assert sorted(trained) == [f"results/train/{variant}/seed9/history.csv," for variant in ("plain", "residual")]
    assert "prepare_cifar10" not in result.stdout


# ------------------------------------------------------------------------------------- 7. smaller things


def test_the_offline_hint_is_a_config_snakemake_accepts(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(InputError) as error:
        fetch("http://127.0.0.1:9/parrot.png", tmp_path / "copy", retries=0, setting="data.parrot.noisy.source")
    hint = re.search(r"--config ('[^']+')", str(error.value)).group(1)
    write_smoke_inputs(tmp_path)
    argument = shlex.split(hint)[0].replace("/path/to/file", "smoke-data/parrot_noisy.png")
    result = run_snakemake(tmp_path, "-n", "resources/parrot/noisy.png", "--config", argument)
    assert "smoke-data/parrot_noisy.png" in result.stdout
