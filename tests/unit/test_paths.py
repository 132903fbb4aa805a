"""Every file's path has one owner, torchbasics.core.paths: filling its patterns, and the layout the README gives."""

import re

from conftest import REPO

from torchbasics.core import paths


def test_fill_fills_the_named_wildcards_and_leaves_the_others_to_the_rule():
    assert (
        paths.fill(paths.COMPARE_TABLE, baseline="plain")
        == "results/compare/{variant}_vs_plain/seed{seed}/variants.csv"
    )
    assert paths.fill(paths.EVAL_METRICS, variant="residual", seed=7) == "results/eval/residual/seed7/metrics.json"


def test_an_epochs_checkpoint_has_two_digits_and_keeps_the_runs_wildcards_open():
    assert paths.epoch_checkpoint(3) == "results/train/{variant}/seed{seed}/epoch_03.pt"
    assert paths.epoch_checkpoint(12, variant="plain", seed=1) == "results/train/plain/seed1/epoch_12.pt"


def test_per_run_keys_each_file_by_its_run_whatever_the_order():
    runs = [["residual", "2"], ["plain", 1]]
    assert paths.per_run(paths.TRAIN_BEST, runs) == {
        ("residual", 2): "results/train/residual/seed2/best.json",
        ("plain", 1): "results/train/plain/seed1/best.json",
    }


def test_a_figure_is_a_png_and_an_svg_of_one_stem():
    figure = paths.TRAIN_LOSS_FIGURE
    assert (figure.png, figure.svg) == (f"{figure.stem}.png", f"{figure.stem}.svg")


def every_pattern() -> list[str]:
    patterns = []
    for value in vars(paths).values():
        if isinstance(value, paths.Figure):
            patterns += [value.png, value.svg]
        elif isinstance(value, str) and value.startswith(("results/", "resources/")):
            patterns.append(value)
    return patterns


def test_every_path_the_readme_names_is_one_the_pipeline_writes():
    readme = (REPO / "README.md").read_text()
    named = {
        match.group(1).rstrip("/")
        for line in readme.splitlines()
        if "--report" not in line  # Snakemake's own report, which the user names
        for match in re.finditer(r"`((?:results|resources)/[^`\s]*)`", line)
    }
    placeholders = {"<variant>": "{variant}", "<seed>": "{seed}", "<baseline>": "{baseline}", "<name>": "{name}"}
    patterns = every_pattern()
    unknown = []
    for path in sorted(named):
        for placeholder, wildcard in placeholders.items():
            path = path.replace(placeholder, wildcard)
        if not any(pattern == path or pattern.startswith(f"{path}/") for pattern in patterns):
            unknown.append(path)
    assert len(named) >= 10 and not unknown, unknown
