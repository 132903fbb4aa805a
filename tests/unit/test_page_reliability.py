"""The summary page says what its files hold: the seed it shows, accuracy intervals inside [0, 1], every class tied
for the worst, and class names, URLs and hosts as text in both the Markdown and the HTML page."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from torchbasics.classifier import replicates
from torchbasics.classifier.evaluation_files import (
    write_confusion,
    write_per_class,
    write_predictions,
)
from torchbasics.classifier.history import write_history, write_val_per_class
from torchbasics.classifier.stats import wilson_interval
from torchbasics.core import paths
from torchbasics.core.errors import InputError
from torchbasics.core.io import write_json, write_table
from torchbasics.report.markup import markdown_text
from torchbasics.report.summary import (
    BulletList,
    PageRun,
    Section,
    classifier_sections,
    provenance_section,
    replicates_section,
    to_html,
    to_markdown,
)


def per_seed_rows(accuracies: dict[str, dict[int, float]], worst: dict[str, dict[int, str]] | None = None):
    """A made-up per-seed table: accuracies[variant][seed], the worst class of each run (cat unless named)."""
    rows = [
        {
            "variant": variant,
            "seed": seed,
            "test_accuracy": accuracy,
            "test_loss": 1.0 - accuracy,
            "chosen_epoch": 3,
            "worst_class": (worst or {}).get(variant, {}).get(seed, "cat"),
            "worst_class_accuracy": 0.3,
            "most_confused_with": "dog",
        }
        for variant, by_seed in accuracies.items()
        for seed, accuracy in by_seed.items()
    ]
    return pd.DataFrame(rows, columns=replicates.PER_SEED_COLUMNS)


def replicate_page(tmp_path, per_seed: pd.DataFrame, shown_seed: int) -> PageRun:
    """A page whose replicate tables are those of ``per_seed``, as the replicates rule writes them; it compares no
    variants, so it reads no paired files."""
    write_table(tmp_path / paths.REPLICATES_PER_SEED, per_seed)
    write_table(tmp_path / paths.REPLICATES_VARIANTS, replicates.variant_summary(per_seed))
    per_class = per_seed[["variant", "seed"]].assign(**{"class": "cat", "accuracy": per_seed["test_accuracy"]})
    write_table(tmp_path / paths.REPLICATES_PER_CLASS, replicates.per_class_summary(per_class))
    first = per_seed["variant"].iloc[0]
    return PageRun(variants=[first], baseline=first, norms=[], shown_seed=shown_seed, root=tmp_path)


def replicate_markdown(tmp_path, per_seed, shown_seed) -> str:
    return to_markdown([replicates_section(replicate_page(tmp_path, per_seed, shown_seed))], tmp_path)


# ------------------------------------------------------------------- 3. the seed the page shows in full


def test_the_replicate_section_names_the_seed_the_workflow_shows_not_the_smallest(tmp_path):
    # seeds: [547, 546] shows seed 547 above (common.smk: SHOWN_SEED, the first in config order)
    per_seed = per_seed_rows({"plain": {547: 0.61, 546: 0.60}, "residual": {547: 0.63, 546: 0.62}})
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=547)
    assert "Seeds 546, 547; the sections above show seed 547 in full" in markdown
    assert "seed 546 in full" not in markdown


def test_a_shown_seed_without_replicate_runs_is_refused(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.60, 547: 0.61}})
    with pytest.raises(InputError, match="no run of seed 548, the seed the page shows in full"):
        replicates_section(replicate_page(tmp_path, per_seed, 548))


# -------------------------------------------------------------------- 8. accuracy intervals inside [0, 1]


def test_an_accuracy_interval_of_two_spread_out_seeds_is_clipped_to_0_1_and_says_so():
    # two seeds 10 points apart: t(0.975, 1) = 12.7 makes the raw interval -8.5% to 118.5%
    summary = replicates.variant_summary(per_seed_rows({"plain": {1: 0.50, 2: 0.60}})).iloc[0]
    assert (summary["ci95_low"], summary["ci95_high"]) == (0.0, 1.0)
    assert summary["ci95_clipped"]
    assert summary["test_accuracy_mean"] == pytest.approx(0.55)


def test_one_bound_is_clipped_and_the_other_kept():
    values = [0.90, 0.99]
    low, high = stats.t.interval(0.95, 1, loc=np.mean(values), scale=stats.sem(values))
    assert high > 1 > low > 0
    interval = replicates.t_interval(values, replicates.ACCURACY_BOUNDS)
    assert (interval["ci95_low"], interval["ci95_high"]) == (pytest.approx(low), 1.0) and interval["ci95_clipped"]


def test_an_interval_inside_0_1_is_students_t_and_not_marked():
    values = [0.60, 0.62, 0.61]
    summary = replicates.variant_summary(per_seed_rows({"plain": dict(enumerate(values))})).iloc[0]
    expected = stats.t.interval(0.95, 2, loc=np.mean(values), scale=stats.sem(values))
    assert (summary["ci95_low"], summary["ci95_high"]) == pytest.approx(expected)
    assert not summary["ci95_clipped"]


def test_per_class_intervals_are_clipped_to_0_1():
    per_class = pd.DataFrame(
        {
            "variant": "plain",
            "seed": [1, 2, 1, 2],
            "class": ["cat", "cat", "dog", "dog"],
            "accuracy": [0.1, 0.3, 0.6, 0.61],
        }
    )
    summary = replicates.per_class_summary(per_class).set_index("class")
    assert summary.loc["cat", "ci95_low"] == 0.0 and summary.loc["cat", "ci95_clipped"]
    assert 0 < summary.loc["dog", "ci95_low"] < summary.loc["dog", "ci95_high"] < 1
    assert not summary.loc["dog", "ci95_clipped"]


def test_the_page_shows_no_accuracy_above_100_percent_and_says_which_interval_was_clipped(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.44, 547: 0.70}, "residual": {546: 0.62, 547: 0.63}})
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=546)
    percentages = [float(number) for number in re.findall(r"(-?\d+\.\d)%", markdown)]
    assert percentages and all(0 <= number <= 100 for number in percentages), percentages
    rows = {line.split("|")[1].strip(): line for line in markdown.splitlines() if line.startswith("| ")}
    assert "0.0% – 100.0% (clipped)" in rows["plain"] and "(clipped)" not in rows["residual"]
    assert "An interval marked (clipped) reached past 0% or 100%" in markdown


def test_no_clipping_note_where_no_interval_was_clipped(tmp_path):
    per_seed = per_seed_rows({"plain": {546: 0.60, 547: 0.61}})
    assert "clipped" not in replicate_markdown(tmp_path, per_seed, shown_seed=546)


# ----------------------------------------------------------------------------- 11. a tie for the worst class


def test_every_class_tied_for_the_worst_is_named(tmp_path):
    per_seed = per_seed_rows(
        {"plain": {546: 0.60, 547: 0.61}, "residual": {546: 0.62, 547: 0.63}},
        worst={"residual": {546: "bird", 547: "airplane"}},
    )
    assert replicates.variant_summary(per_seed).set_index("variant").loc["residual", "worst_class_counts"] == (
        "bird 1/2; airplane 1/2"
    )
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=546)
    assert "**cat** is the worst class in 2 of 2 seeds of plain" in markdown
    assert "**bird** and **airplane** are each the worst class in 1 of 2 seeds of residual" in markdown


def test_three_tied_classes_are_listed_and_a_clear_worst_stays_alone(tmp_path):
    per_seed = per_seed_rows(
        {"plain": {1: 0.6, 2: 0.6, 3: 0.6}, "residual": {1: 0.6, 2: 0.6, 3: 0.6, 4: 0.6}},
        worst={"plain": {1: "cat", 2: "dog", 3: "bird"}, "residual": {1: "dog", 2: "cat", 3: "dog", 4: "bird"}},
    )
    markdown = replicate_markdown(tmp_path, per_seed, shown_seed=1)
    assert "**cat**, **dog** and **bird** are each the worst class in 1 of 3 seeds of plain" in markdown
    assert "**dog** is the worst class in 2 of 4 seeds of residual" in markdown


# ------------------------------------------------------------------ 9. text from data is text on both pages

IMG = '"><img src=x onerror=alert(1)>'
PIPE = "air|plane"
STARS = "bi**rd"
TICK = "c`at"
CLASSES = [IMG, PIPE, STARS, TICK]
SCRIPT_SOURCE = "file:///tmp/<script>alert(1)</script>/cifar10.npz"


def cells(row: str) -> list[str]:
    """A Markdown table row's cells, split at the pipes that are not escaped."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def write_evaluation(root, variant: str, seed: int) -> None:
    """A made-up training and evaluation of one variant whose classes have HTML and Markdown in their names, where
    the pipeline writes them under ``root``."""

    def at(pattern: str):
        return root / paths.fill(pattern, variant=variant, seed=seed)

    worst, partner = STARS, TICK
    write_json(
        at(paths.TRAIN_BEST),
        {
            "variant": variant,
            "epochs": 2,
            "epoch": 2,
            "val_loss": 1.1,
            "val_accuracy": 0.5,
            "train_loss": 1.0,
            "checkpoint": str(at(paths.epoch_checkpoint(2))),
            "rule": "lowest validation loss",
        },
    )
    write_json(
        at(paths.EVAL_METRICS),
        {
            "variant": variant,
            "chosen_epoch": 2,
            "checkpoint": str(at(paths.epoch_checkpoint(2))),
            "training_seed": seed,
            "training_device": "cpu",
            "training_precision": "float32",
            "training_threads": 1,
            "n_test": 40,
            "device": "cpu",
            "accuracy": 0.5,
            "ci95_low": 0.35,
            "ci95_high": 0.65,
            "test_loss": 1.2,
            "worst_class": worst,
            "worst_class_accuracy": 0.3,
            "most_confused_with": partner,
            "confused_fraction": 0.4,
        },
    )
    accuracy = {IMG: 0.7, PIPE: 0.6, STARS: 0.3, TICK: 0.4}
    write_per_class(
        at(paths.EVAL_PER_CLASS),
        [
            {"class": name, "n": 10, "correct": round(10 * value), "accuracy": value}
            | dict(zip(("ci95_low", "ci95_high"), wilson_interval(round(10 * value), 10)))
            for name, value in accuracy.items()
        ],
    )
    confusion = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.4, 0.4]])
    write_confusion(at(paths.EVAL_CONFUSION), confusion, CLASSES)
    predictions = pd.DataFrame(
        {
            "index": range(4),
            "true": [worst, worst, worst, partner],
            "predicted": [partner, partner, worst, worst],
            "confidence": [0.8, 0.6, 0.7, 0.5],
        }
    )
    write_predictions(at(paths.EVAL_PREDICTIONS), predictions)
    write_val_per_class(
        at(paths.TRAIN_VAL_PER_CLASS),
        [
            {"epoch": epoch, "class": name, "n": 10, "correct": 2 + epoch, "accuracy": (2 + epoch) / 10}
            for epoch in (1, 2)
            for name in CLASSES
        ],
    )
    write_history(
        at(paths.TRAIN_HISTORY),
        [
            {
                "epoch": epoch,
                "train_loss": 2.0 - epoch / 2,
                "val_loss": 1.5 - epoch / 5,
                "val_accuracy": 0.4 + epoch / 20,
                "seconds": 1.0,
                "images_per_s": 100.0,
                "device": "cpu",
                "precision": "float32",
                "threads": 1,
            }
            for epoch in (1, 2)
        ],
    )
    figures = [paths.TRAIN_LOSS_FIGURE, paths.EVAL_CONFUSION_FIGURE, paths.EVAL_CONFUSED_FIGURE, paths.VAL_LOSS_FIGURE]
    for figure in figures:
        at(figure.png).write_bytes(b"not drawn")  # the HTML page embeds the bytes; their content does not matter here


@pytest.fixture
def evaluation_pages(tmp_path):
    """The classifier sections of one made-up variant, as Markdown and HTML."""
    write_evaluation(tmp_path, "plain", 1)
    sections = classifier_sections(PageRun(variants=["plain"], baseline="plain", norms=[], shown_seed=1, root=tmp_path))
    return to_markdown(sections, tmp_path), to_html(sections)


def test_class_names_cannot_add_html_to_either_page(evaluation_pages):
    markdown, page = evaluation_pages
    assert not re.search(r"(?<!\\)<img", markdown) and "<img src=x" not in page
    assert "\\<img src=x onerror=alert(1)\\>" in markdown  # shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_pipe_in_a_class_name_keeps_every_table_row_whole(evaluation_pages):
    markdown, _ = evaluation_pages
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    widths = {len(cells(row)) for row in rows if "images" in row or any(name[:3] in row for name in CLASSES)}
    assert len(rows) >= 2 * (1 + 1 + len(CLASSES)) and widths == {4, 1 + len(CLASSES)}, widths
    class_rows = [cells(row) for row in rows if cells(row)[0].strip() == "air\\|plane"]
    assert len(class_rows) == 2  # the per-class table and the confusion matrix


def test_marks_in_a_class_name_stay_inside_the_pages_own_marks(evaluation_pages):
    markdown, page = evaluation_pages
    assert "The worst class is **bi\\*\\*rd** (accuracy 30.0%); it is most often taken for **c\\`at**" in markdown
    assert "The worst class is <strong>bi**rd</strong> (accuracy 30.0%); it is most often taken for " in page
    assert "<strong>c`at</strong> (40.0% of its test images)" in page
    assert "<code>" not in page


def run_info(config_yaml: str) -> dict:
    return {
        "versions": {"torch": "2.14.1"},
        "inputs": {"cifar10": {"sha256": "ab" * 32, "source": SCRIPT_SOURCE}},
        "hardware": {"cpu": "x86 | <b>fast</b>", "machine": "x86_64", "cpu_bfloat16_units": []},
        "training": [{"variant": "plain", "seed": 546, "device": "cpu", "precision": "float32", "threads": 1}],
        "config": {"seed": 546},
        "devices": ["cpu"],
        "host": "host_*name*",
        "created": "2025-01-01T00:00:00",
        "config_yaml": config_yaml,
    }


def test_a_source_url_and_a_host_are_text_on_both_pages(tmp_path):
    section = provenance_section(run_info("seed: 546\n"))
    markdown, page = to_markdown([section], tmp_path), to_html([section])
    for text in (markdown, page):
        assert not re.search(r"(?<!\\)<(script|b)>", text), text
    assert "\\<script\\>alert(1)\\</script\\>" in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "host host\\_\\*name\\* (x86 \\| \\<b\\>fast\\</b\\>, x86\\_64" in markdown
    (source_row,) = [cells(line) for line in markdown.splitlines() if line.startswith("| cifar10 |")]
    assert len(source_row) == 3


def test_backticks_in_the_config_cannot_end_its_code_block(tmp_path):
    config_yaml = "seed: 546\nnote: |\n  ```\n  # not a heading\n  ```\n"
    markdown = to_markdown([provenance_section(run_info(config_yaml))], tmp_path)
    lines = markdown.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("```") and line.endswith("yaml"))
    fence = lines[start][: -len("yaml")]
    end = next(index for index in range(start + 1, len(lines)) if lines[index].strip().startswith(fence))
    assert "\n".join(lines[start + 1 : end]) == config_yaml.rstrip()


def test_markdown_text_reads_back_as_the_text_itself():
    for text in (IMG, PIPE, STARS, TICK, SCRIPT_SOURCE, "a\\b [link](x) ~~s~~ & #1 _u_"):
        escaped = markdown_text(text)
        assert re.sub(r"\\(.)", r"\1", escaped) == text
        assert not re.search(r"(?<!\\)[`*_\[\]<>|&~#]", escaped.replace("\\\\", "")), escaped


def test_a_paragraph_that_starts_like_a_list_stays_a_paragraph(tmp_path):
    section = Section("t", ["- not an item", "12. not a number", BulletList(["+ not nested"])])
    markdown = to_markdown([section], tmp_path)
    assert "\\- not an item" in markdown and "12\\. not a number" in markdown and "- \\+ not nested" in markdown
