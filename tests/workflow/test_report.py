"""The report stage after a smoke run: the summary page, Snakemake's report, and regeneration without retraining."""

import re

import pytest
from conftest import MOVED_WORKFLOW_TRIGGERS, SmokeRun, copy_workflow, planned_rules, run_snakemake

from torchbasics.core import paths

QUESTIONS = ["1.1 b", "1.1 c, d", "1.2 b", "1.2 c", "2.0 f", "2.0 g i, ii", "2.0 g iii", "2.0 g iv", "2.0 h"]


def test_summary_answers_every_question_with_embedded_figures(smoke_run):
    page = (smoke_run / paths.SUMMARY_HTML).read_text()
    markdown = (smoke_run / paths.SUMMARY_MARKDOWN).read_text()
    for question in QUESTIONS:
        assert question in page and question in markdown, question
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    embedded = re.findall(r'src="data:image/png;base64,', page)
    # 2 autograd, 4 denoise (2 contact sheets, comparison, PSNR heatmap), 3 training, 2x2 eval, 1 compare,
    # 2 replicates
    assert len(linked) == len(embedded) >= 16
    for figure in (
        "denoise/figures/psnr_heatmap.png",
        "train/val_loss.png",
        "replicates/test_accuracy.png",
        "replicates/per_class_accuracy.png",
    ):
        assert figure in markdown, figure
    assert "http" not in re.sub(r"https://json-schema[^\s\"]*", "", page.split("<pre>")[0])  # nothing fetched
    for section in ("How this run was made", "sha256", "torch"):
        assert section in page


def test_the_page_answers_the_why_questions_in_words_and_lists_problems(smoke_run):
    markdown = (smoke_run / paths.SUMMARY_MARKDOWN).read_text()
    contents = markdown.split("Contents:")[1].split("<a id=")[0]
    assert "- [1.1 b" in contents and "- [Problems and surprises](#problems-and-surprises)" in contents
    for answer in (
        "Verdict: float32 numbers near cos(pi/4)",  # 1.1 b
        "`y.sum()` is a dummy scalar",  # 1.1 c
        "The L2 variant uses squared norms",  # 1.2 c
        "Why, by region",
        "At one and the same setting",
        "What causes the poor performance",  # 2.0 g iv
        "median confidence",
        "Validation accuracy over the epochs",
        "Why: after 2 epochs the training loss of residual",  # 2.0 h
        "## Problems and surprises",
        "About the method",
    ):
        assert answer in markdown, answer
    captions = re.findall(r"^\*(.+)\*$", markdown, flags=re.MULTILINE)
    assert captions and all(re.match(r"\d\.\d", caption) for caption in captions), captions


def test_summary_numbers_come_from_the_run(smoke_run):
    import json

    metrics = json.loads((smoke_run / paths.fill(paths.EVAL_METRICS, variant="plain", seed=546)).read_text())
    markdown = (smoke_run / paths.SUMMARY_MARKDOWN).read_text()
    assert f"accuracy {100 * metrics['accuracy']:.1f}%" in markdown
    assert f"The worst class is **{metrics['worst_class']}**" in markdown
    assert (
        f"| plain | 546 | {metrics['training_device']} | {metrics['training_precision']} | "
        f"{metrics['training_threads']} |"
    ) in markdown


def test_the_page_answers_from_the_replicates(smoke_run):
    markdown = (smoke_run / paths.SUMMARY_MARKDOWN).read_text()
    assert "2 training replicates" in markdown and "Seeds 546, 547" in markdown
    assert re.search(r"\*\*\w+\*\* is the worst class in [12] of 2 seeds of plain", markdown)
    assert re.search(r"residual minus plain, trained with the same seed, is [+-]\d+\.\d points", markdown)


def test_snakemake_report_holds_every_figure(smoke, tmp_path):
    report = tmp_path / "report.html"
    run_snakemake(smoke.workdir, "--report", str(report), workflow=smoke.workflow)
    content = report.read_text()
    figures = [
        path.relative_to(smoke.workdir).as_posix()
        for path in (smoke.workdir / "results").rglob("*.png")
        if "denoise/L" not in path.as_posix()
    ]  # the denoised images are data, not report figures
    assert figures
    for figure in figures:
        assert figure in content, figure
    for category in ("Autograd", "Denoising", "Training", "Evaluation", "Comparison", "Replicates", "Summary"):
        assert category in content, category
    assert "introduction to PyTorch" in content  # the workflow's description (workflow/report/workflow.rst)
    assert "trained for 2" in content  # rendered with the run's config (tests/smoke.yaml: 2 epochs)


COMPUTE_RULES = (
    "train",
    "evaluate",
    "denoise_grid",
    "autograd_gradients",
    "autograd_convergence",
    "prepare_cifar10",
    "select_epoch",
    "compare",
    "denoise_summary",
)


def planned_jobs(run: SmokeRun) -> set[str]:
    result = run_snakemake(run.workdir, "-n", *MOVED_WORKFLOW_TRIGGERS, workflow=run.workflow)
    return set(planned_rules(result.stdout))


@pytest.fixture
def editable_smoke_run(own_smoke_run, tmp_path) -> SmokeRun:
    """A copy of the smoke run with a copy of its workflow, whose code the test edits."""
    return SmokeRun(own_smoke_run.workdir, copy_workflow(tmp_path / "workflow"))


def test_editing_plot_code_reruns_only_plots(editable_smoke_run):
    assert planned_jobs(editable_smoke_run) == set()  # the smoke run is complete
    library = editable_smoke_run.workflow / "workflow" / "scripts" / "torchbasics"
    modules = list(library.glob("*/plots.py"))
    assert modules
    for module in modules:
        module.write_text(module.read_text() + "\n# a style change\n")
    jobs = planned_jobs(editable_smoke_run)
    assert jobs, "editing the plotting code re-ran nothing: plot rules do not track their code"
    assert not jobs & set(COMPUTE_RULES), jobs & set(COMPUTE_RULES)


def test_editing_the_pages_answers_rerenders_only_the_page(editable_smoke_run):
    assert planned_jobs(editable_smoke_run) == set()  # the smoke run is complete
    answers = editable_smoke_run.workflow / "workflow" / "scripts" / "torchbasics" / "report" / "answers.py"
    answers.write_text(answers.read_text() + "\n# a reworded statement\n")
    assert planned_jobs(editable_smoke_run) == {"summary", "all"}
