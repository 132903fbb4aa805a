"""Reliability: a user's file is never the pipeline's output, the page reads only the files the config declares,
numbers are read as people write them, a failing job's log says why, and a change reruns only what it affects."""

import json
import re
import shlex
import shutil
from types import SimpleNamespace

import jinja2
import pytest
import yaml
from conftest import REPO, linked_copy, run_snakemake
from make_inputs import write_smoke_inputs

from torchbasics.core import paths, settings
from torchbasics.core.errors import InputError
from torchbasics.core.fetch import fetch
from torchbasics.denoise import denoise_files
from torchbasics.report.summary import PageRun, write_summary


def planned_jobs(result) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", result.stdout, flags=re.MULTILINE)


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


# ------------------------------------------------------------------- 2. the page reads declared files only


def page_run(root, variants, **changes) -> PageRun:
    """The page of the smoke run (or a linked copy of it, ``root``) as a config with ``variants`` would show it."""
    return PageRun(
        **{"variants": variants, "baseline": "plain", "norms": ["L1", "L2"], "shown_seed": 546} | changes, root=root
    )


def render_page(tmp_path, run):
    write_summary(run, tmp_path / "summary.md", tmp_path / "summary.html")
    return (tmp_path / "summary.md").read_text()


def test_one_variant_gets_no_comparison_though_an_old_one_is_in_results(smoke_run, tmp_path):
    assert (smoke_run / "results" / "compare" / "residual_vs_plain" / "seed546" / "mcnemar.json").exists()  # both ran
    page = render_page(tmp_path, page_run(smoke_run, ["plain"]))
    assert "2.0 h" not in page and "(residual)" not in page
    assert "2.0 h" in render_page(tmp_path, page_run(smoke_run, ["plain", "residual"]))


def test_the_summary_rule_of_one_variant_does_not_read_the_comparison(smoke_run_copy):
    # the rule's declared inputs, through snakemake: with one variant, no file of results/compare/ is one
    result = run_snakemake(
        smoke_run_copy.workdir,
        "-n",
        "--forcerun",
        "summary",
        "results/report/summary.md",
        "--config",
        "train={variants: [plain]}",
        workflow=smoke_run_copy.workflow,
    )
    summary_job = result.stdout[result.stdout.index("rule summary:") :]
    inputs = summary_job[summary_job.index("input:") : summary_job.index("output:")]
    assert "results/eval/plain/seed546/metrics.json" in inputs
    assert "results/compare" not in inputs and "residual" not in inputs


def declared_summary_inputs(smoke_run_copy, *config) -> set[str]:
    """The summary rule's inputs as Snakemake plans them for the smoke run (with ``config`` given)."""
    result = run_snakemake(
        smoke_run_copy.workdir,
        "-n",
        "--forcerun",
        "summary",
        paths.SUMMARY_MARKDOWN,
        *config,
        workflow=smoke_run_copy.workflow,
    )
    summary_job = result.stdout[result.stdout.index("rule summary:") :]
    inputs = summary_job[summary_job.index("input:") + len("input:") : summary_job.index("output:")]
    return {path.strip() for path in inputs.split(",")}


@pytest.mark.parametrize("variants", [["plain", "residual"], ["plain"]])
def test_the_page_reads_only_files_its_rule_declares(smoke_run_copy, tmp_path, monkeypatch, variants):
    declared = declared_summary_inputs(smoke_run_copy, "--config", f"train={{variants: [{', '.join(variants)}]}}")
    read = set()
    file_of = PageRun.file

    def recorded(run, pattern, **wildcards):
        path = file_of(run, pattern, **wildcards)
        read.add(str(path.relative_to(run.root)))
        return path

    monkeypatch.setattr(PageRun, "file", recorded)
    render_page(tmp_path, page_run(smoke_run_copy.workdir, variants))
    assert len(read) > 20 and read <= declared, read - declared


def test_after_a_run_of_both_variants_a_run_of_one_shows_no_comparison(smoke_run_copy):
    workdir, page = smoke_run_copy.workdir, smoke_run_copy.workdir / "results" / "report" / "summary.md"
    try:
        run_snakemake(
            workdir,
            "results/report/summary.md",
            "--config",
            "train={variants: [plain]}",
            workflow=smoke_run_copy.workflow,
        )
        assert (workdir / "results" / "compare" / "residual_vs_plain" / "seed546" / "mcnemar.json").exists()
        text = page.read_text()
        assert "2.0 h" not in text and "(residual)" not in text and "2.0 g i, ii — test accuracy (plain)" in text
    finally:  # the page of both variants again, for the other tests of the same smoke run
        run_snakemake(workdir, "results/report/summary.md", workflow=smoke_run_copy.workflow)
    assert "2.0 h" in page.read_text()


# ------------------------------------------------------------------------------- 3. numbers as people write them


def test_exponent_numbers_are_numbers_in_overrides_and_text_stays_text():
    config = {
        "train": {"lr": "3e-4"},
        "denoise": {"lr": ["1E-5", "1.0e-4"]},
        "data": {"cifar10": {"checksum": "md5:" + "1" * 32, "source": "data/3e-4.npz"}},
    }
    settings.type_values_as_the_schema_asks(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert config == {
        "train": {"lr": 3e-4},
        "denoise": {"lr": [1e-5, 1e-4]},
        "data": {"cifar10": {"checksum": "md5:" + "1" * 32, "source": "data/3e-4.npz"}},
    }


def schema_positions():
    schema_folder = REPO / "workflow" / "schemas"
    return settings.numeric_positions(yaml.safe_load((schema_folder / "config.schema.yaml").read_text()), schema_folder)


def test_only_what_the_schema_types_as_a_number_is_converted():
    config = {
        "train": {"lr": "3e-4", "epochs": 2.0},
        "denoise": {"lr": ["1e-1", 0.9]},
        "split": {"train": [0, 2000.0]},
        "data": {"cifar10": {"source": "1e5", "checksum": None}},
    }
    changed = settings.normalise_numbers(config, schema_positions())
    assert config == {
        "train": {"lr": 3e-4, "epochs": 2},
        "denoise": {"lr": [0.1, 0.9]},
        "split": {"train": [0, 2000]},
        "data": {"cifar10": {"source": "1e5", "checksum": None}},
    }
    assert type(config["train"]["epochs"]) is int and type(config["split"]["train"][1]) is int
    assert sorted(changed) == ["denoise.lr.0", "split.train.1", "train.epochs", "train.lr"]


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


# ------------------------------------------- 4. integers (a failing job's log: test_runtime.py)


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


def test_a_checksum_added_to_the_same_source_only_checks_it(smoke_run_copy):
    npz = smoke_run_copy.workdir / "smoke-data" / "cifar10.npz"
    from torchbasics.core.fetch import file_digest

    checksum = "sha256:" + file_digest(npz, "sha256")
    result = run_snakemake(
        smoke_run_copy.workdir,
        "-n",
        "--config",
        f"data={{cifar10: {{source: smoke-data/cifar10.npz, checksum: '{checksum}'}}}}",
        workflow=smoke_run_copy.workflow,
    )
    # only the check: nothing prepared, trained or re-rendered (the page records the inputs' own sha256 already)
    assert set(planned_jobs(result)) == {"verify_source", "all"}


def test_a_new_test_split_retrains_nothing(smoke_run_copy):
    result = run_snakemake(
        smoke_run_copy.workdir,
        "-n",
        "--config",
        "split={train: [0, 2000], val: [2000, 2500], test: [2500, 2900]}",
        workflow=smoke_run_copy.workflow,
    )
    jobs = set(planned_jobs(result))
    assert "evaluate" in jobs and "cifar10_splits" in jobs
    assert "prepare_cifar10" not in jobs
    # rule train's params must hold only the splits it reads (train, val), rule evaluate's only the test split
    assert not jobs & {"train", "select_epoch"}, jobs


def test_a_new_seed_does_not_reprepare_an_npz_source(smoke_run_copy):
    result = run_snakemake(smoke_run_copy.workdir, "-n", "--config", "seed=7", workflow=smoke_run_copy.workflow)
    jobs = set(planned_jobs(result))
    assert "autograd_gradients" in jobs and "prepare_cifar10" not in jobs
    # the smoke config's training replicates have seeds of their own: the run's seed does not retrain them
    assert "train" not in jobs


def test_a_new_replicate_trains_only_its_own_runs(smoke_run_copy):
    result = run_snakemake(
        smoke_run_copy.workdir, "-n", "--config", "seeds=[546, 547, 9]", workflow=smoke_run_copy.workflow
    )
    trained = re.findall(r"rule train:\n\s+input: .*\n\s+output: (\S+)", result.stdout)
    assert sorted(trained) == [f"results/train/{variant}/seed9/history.csv," for variant in ("plain", "residual")]
    assert "prepare_cifar10" not in result.stdout


# ------------------------------------------------------------------------------------- 7. smaller things


def denoise_results_as(tree, norms, no_reference=False):
    """The denoising results of a linked copy of the smoke run (``tree``) as a run with only ``norms`` and, with
    ``no_reference``, without a clean original would have them. Each file is written anew, never edited in place:
    its hard link still shares the smoke run's."""
    table, best_file = tree / paths.DENOISE_TABLE, tree / paths.DENOISE_BEST
    results = denoise_files.read_results(table)
    results = results[results["norm"].isin(norms)]
    best = json.loads(best_file.read_text())
    best["best"] = {norm: best["best"][norm] for norm in norms}
    if no_reference:
        results = results.assign(psnr=None, ssim=None)
        best.update(
            criterion="no clean reference, so no judged best: the grid's centre setting",
            noisy={"psnr": None, "ssim": None},
            better_norm=None,
            best={norm: {**row, "psnr": None, "ssim": None} for norm, row in best["best"].items()},
        )
    denoise_files.write_results(table, results)
    best_file.unlink()
    best_file.write_text(json.dumps(best))


def denoise_part(page: str) -> str:
    return page[page.index("## 1.2 b") : page.index("## 2.0 f")]


def test_without_a_clean_original_the_page_names_no_best(smoke_run, tmp_path):
    tree = linked_copy(smoke_run, tmp_path / "run")
    denoise_results_as(tree, ["L1", "L2"], no_reference=True)
    text = denoise_part(render_page(tmp_path, page_run(tree, ["plain", "residual"], clean_reference=False)))
    assert "The best" not in text and "clean original," not in text and "best L1" not in text
    assert "grid's centre" in text


def test_with_l2_alone_the_page_keeps_the_table_and_every_psnr(smoke_run, tmp_path):
    tree = linked_copy(smoke_run, tmp_path / "run")
    denoise_results_as(tree, ["L2"])
    rows = denoise_files.read_results(tree / paths.DENOISE_TABLE).to_dict("records")
    best = json.loads((tree / paths.DENOISE_BEST).read_text())
    text = denoise_part(render_page(tmp_path, page_run(tree, ["plain", "residual"], norms=["L2"])))
    assert "| norm | lr | alpha |" in text
    for row in rows:
        assert f"| L2 | {row['lr']} | {row['alpha']} |" in text and f"{row['psnr']:.2f}" in text
    assert f"The best L2 setting is lr = {best['best']['L2']['lr']}" in text


@pytest.mark.parametrize("clean", [None, {"source": "parrot.png"}])
def test_the_comparison_figures_caption_follows_the_clean_setting(clean):
    caption = (REPO / "workflow" / "report" / "denoise_comparison.rst").read_text()
    config = {"data": {"parrot": {"clean": clean}}}
    text = jinja2.Environment().from_string(caption).render(snakemake=SimpleNamespace(config=config))
    assert ("clean original" in text.replace("No clean original", "")) == (clean is not None)
    assert ("best setting of each norm" in text) == (clean is not None)


def test_the_offline_hint_is_a_config_snakemake_accepts(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(InputError) as error:
        fetch("http://127.0.0.1:9/parrot.png", tmp_path / "copy", retries=0, setting="data.parrot.noisy.source")
    hint = re.search(r"--config ('[^']+')", str(error.value)).group(1)
    write_smoke_inputs(tmp_path)
    argument = shlex.split(hint)[0].replace("/path/to/file", "smoke-data/parrot_noisy.png")
    result = run_snakemake(tmp_path, "-n", "resources/parrot/noisy.png", "--config", argument)
    assert "smoke-data/parrot_noisy.png" in result.stdout
