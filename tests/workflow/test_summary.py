"""The page (summary.md) rendered from the smoke run: it reads only the files its rule declares, and shows what a
config of one variant, one norm or no clean original asks for."""

import json
import re

import pytest
from conftest import linked_copy, planned_rules, run_snakemake

from torchbasics.core import paths
from torchbasics.denoise import denoise_files
from torchbasics.report.summary import PageRun, write_summary


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


def test_the_summary_rule_of_one_variant_does_not_read_the_comparison(smoke):
    # the rule's declared inputs, through snakemake: with one variant, no file of results/compare/ is one
    result = run_snakemake(
        smoke.workdir,
        "-n",
        "--forcerun",
        "summary",
        "results/report/summary.md",
        "--config",
        "train={variants: [plain]}",
        workflow=smoke.workflow,
    )
    summary_job = result.stdout[result.stdout.index("rule summary:") :]
    inputs = summary_job[summary_job.index("input:") : summary_job.index("output:")]
    assert "results/eval/plain/seed546/metrics.json" in inputs
    assert "results/compare" not in inputs and "residual" not in inputs


def declared_summary_inputs(smoke, *config) -> set[str]:
    """The summary rule's inputs as Snakemake plans them for the smoke run (with ``config`` given)."""
    result = run_snakemake(
        smoke.workdir,
        "-n",
        "--forcerun",
        "summary",
        paths.SUMMARY_MARKDOWN,
        *config,
        workflow=smoke.workflow,
    )
    summary_job = result.stdout[result.stdout.index("rule summary:") :]
    inputs = summary_job[summary_job.index("input:") + len("input:") : summary_job.index("output:")]
    return {path.strip() for path in inputs.split(",")}


@pytest.mark.parametrize("variants", [["plain", "residual"], ["plain"]])
def test_the_page_reads_only_files_its_rule_declares(smoke, tmp_path, monkeypatch, variants):
    declared = declared_summary_inputs(smoke, "--config", f"train={{variants: [{', '.join(variants)}]}}")
    read = set()
    file_of = PageRun.file

    def recorded(run, pattern, **wildcards):
        path = file_of(run, pattern, **wildcards)
        read.add(str(path.relative_to(run.root)))
        return path

    monkeypatch.setattr(PageRun, "file", recorded)
    render_page(tmp_path, page_run(smoke.workdir, variants))
    assert len(read) > 20 and read <= declared, read - declared


def test_after_a_run_of_both_variants_a_run_of_one_shows_no_comparison(own_smoke_run):
    workdir = own_smoke_run.workdir
    run_snakemake(
        workdir, paths.SUMMARY_MARKDOWN, "--config", "train={variants: [plain]}", workflow=own_smoke_run.workflow
    )
    assert (workdir / "results" / "compare" / "residual_vs_plain" / "seed546" / "mcnemar.json").exists()
    text = (workdir / paths.SUMMARY_MARKDOWN).read_text()
    assert "2.0 h" not in text and "(residual)" not in text and "2.0 g i, ii — test accuracy (plain)" in text


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


def test_after_reordering_the_seeds_the_page_names_and_shows_the_first(own_smoke_run):
    workdir = own_smoke_run.workdir  # reordering the seeds retrains nothing
    result = run_snakemake(
        workdir, paths.SUMMARY_MARKDOWN, "--config", "seeds=[547, 546]", workflow=own_smoke_run.workflow
    )
    jobs = set(planned_rules(result.stderr))
    assert "summary" in jobs and not jobs & {"train", "select_epoch", "evaluate"}, jobs  # nothing retrained
    markdown = (workdir / "results" / "report" / "summary.md").read_text()
    assert "the sections above show seed 547 in full" in markdown
    metrics = json.loads((workdir / "results" / "eval" / "plain" / "seed547" / "metrics.json").read_text())
    shown = re.search(r"on the \d+ test images \(\w+\): accuracy (\d+\.\d)%", markdown).group(1)
    assert shown == f"{100 * metrics['accuracy']:.1f}"
