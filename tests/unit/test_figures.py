"""The seaborn figures, drawn from small made-up tables: what each axis shows, its labels and its data."""

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from matplotlib.colors import to_rgba

from torchbasics.classifier import replicates
from torchbasics.classifier.history import write_best, write_history
from torchbasics.classifier.plots import (
    confusion_heatmap,
    per_class_comparison,
    replicate_accuracy,
    replicate_per_class,
    validation_loss_curves,
)
from torchbasics.core import paths
from torchbasics.core.errors import InputError
from torchbasics.core.figures import plt, save_figure
from torchbasics.denoise.plots import psnr_heatmap

SCRIPTS = REPO / "workflow" / "scripts"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def denoise_results(psnr=True):
    rows = [
        {"norm": norm, "lr": lr, "alpha": alpha, "psnr": 20 + lr + alpha + (norm == "L2") if psnr else None}
        for norm in ("L1", "L2")
        for lr in (0.3, 0.9)
        for alpha in (0.5, 1.5, 4.5)
    ]
    return pd.DataFrame(rows)


def annotations(axes):
    return [text.get_text() for text in axes.texts]


def test_psnr_heatmap_has_a_panel_per_norm_with_lr_rows_and_alpha_columns(tmp_path):
    figure = psnr_heatmap(denoise_results())
    panels = [axes for axes in figure.axes if axes.get_title()]
    assert [axes.get_title() for axes in panels] == [
        "L1: PSNR against the clean original",
        "L2: PSNR against the clean original",
    ]
    for axes, offset in zip(panels, (0, 1)):
        assert (axes.get_ylabel(), axes.get_xlabel()) == ("lr", "alpha")
        assert [label.get_text() for label in axes.get_yticklabels()] == ["0.3", "0.9"]
        assert [label.get_text() for label in axes.get_xticklabels()] == ["0.5", "1.5", "4.5"]
        expected = [f"{20 + lr + alpha + offset:.2f}" for lr in (0.3, 0.9) for alpha in (0.5, 1.5, 4.5)]
        assert annotations(axes) == expected  # row by row: lr, then alpha
        (best,) = axes.patches  # the outlined best setting: the last row and column
        assert best.get_xy() == (2, 1)
    save_figure(figure, tmp_path / "psnr.png", tmp_path / "psnr.svg")
    assert (tmp_path / "psnr.png").read_bytes().startswith(b"\x89PNG")


def test_psnr_heatmap_refuses_results_without_psnr():
    with pytest.raises(InputError, match="no clean original"):
        psnr_heatmap(denoise_results(psnr=False))


def history(val_losses):
    return pd.DataFrame({"epoch": range(1, len(val_losses) + 1), "val_loss": val_losses})


RUNS = {
    ("plain", 1): ([2.0, 1.5, 1.7], {"epoch": 2, "val_loss": 1.5}),
    ("plain", 2): ([2.1, 1.6, 1.4], {"epoch": 3, "val_loss": 1.4}),
    ("residual", 1): ([1.8, 1.2, 1.1], {"epoch": 3, "val_loss": 1.1}),
    ("residual", 2): ([1.7, 1.0, 1.3], {"epoch": 2, "val_loss": 1.0}),
}


def stars_and_curves(axes):
    lines = axes.get_lines()
    return [line for line in lines if line.get_marker() == "*"], [line for line in lines if line.get_marker() != "*"]


def test_validation_loss_curves_draw_every_seed_in_its_variants_colour_and_star_its_chosen_epoch():
    histories = {run: history(values) for run, (values, _) in RUNS.items()}
    bests = {run: best for run, (_, best) in RUNS.items()}
    figure = validation_loss_curves(histories, bests, "Validation loss")
    (axes,) = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("epoch", "validation cross-entropy loss")
    stars, curves = stars_and_curves(axes)
    assert len(curves) == len(stars) == len(RUNS)  # a line and a star per (variant, seed)
    curve_of = {tuple(curve.get_ydata()): curve for curve in curves}
    star_of = {(star.get_xdata()[0], star.get_ydata()[0]): star for star in stars}
    colour_of = {}
    for (variant, _), (values, best) in RUNS.items():
        curve = curve_of[tuple(values)]
        assert list(curve.get_xdata()) == [1, 2, 3]
        assert star_of[best["epoch"], best["val_loss"]].get_color() == curve.get_color()  # in its run's colour
        colour_of.setdefault(variant, set()).add(curve.get_color())
    assert all(len(colours) == 1 for colours in colour_of.values())  # a colour per variant, not per seed
    assert colour_of["plain"] != colour_of["residual"]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["plain (2 seeds)", "residual (2 seeds)", "chosen epoch of each run"]  # not an entry per seed


def test_validation_loss_curves_of_one_seed_per_variant():
    histories = {("plain", 7): history([2.0, 1.5]), ("residual", 7): history([1.8, 1.9])}
    bests = {("plain", 7): {"epoch": 2, "val_loss": 1.5}, ("residual", 7): {"epoch": 1, "val_loss": 1.8}}
    (axes,) = validation_loss_curves(histories, bests, "Validation loss").axes
    stars, curves = stars_and_curves(axes)
    assert len(stars) == len(curves) == 2
    assert [text.get_text() for text in axes.get_legend().get_texts()][:2] == ["plain (1 seed)", "residual (1 seed)"]


def test_confusion_heatmap_rows_are_true_classes_and_every_cell_is_annotated():
    names = ["cat", "dog", "frog"]
    fractions = pd.DataFrame(
        [[0.8, 0.2, 0.0], [0.1, 0.6, 0.3], [0.0, 0.0, 1.0]], index=pd.Index(names, name="true/predicted"), columns=names
    )
    figure = confusion_heatmap(fractions, "plain")
    axes = figure.axes[0]
    assert (axes.get_ylabel(), axes.get_xlabel()) == ("true class", "predicted class")
    assert [label.get_text() for label in axes.get_yticklabels()] == names
    assert [label.get_text() for label in axes.get_xticklabels()] == names
    assert annotations(axes) == [f"{value:.2f}" for value in fractions.to_numpy().ravel()]


def per_class(accuracy):
    accuracy = np.array(accuracy)
    return pd.DataFrame(
        {"class": ["cat", "dog"], "accuracy": accuracy, "ci95_low": accuracy - 0.1, "ci95_high": accuracy + 0.05}
    )


def test_per_class_comparison_groups_a_bar_per_variant_in_each_class():
    figure = per_class_comparison({"plain": per_class([0.5, 0.7]), "residual": per_class([0.6, 0.9])}, "accuracy")
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["cat", "dog"]
    plain, residual = axes.containers[:2]
    assert [bar.get_height() for bar in plain] == pytest.approx([0.5, 0.7])
    assert [bar.get_height() for bar in residual] == pytest.approx([0.6, 0.9])
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["plain", "residual"]


def test_per_class_comparison_refuses_tables_of_different_classes():
    other = per_class([0.5, 0.7]).assign(**{"class": ["cat", "emu"]})
    with pytest.raises(InputError, match="do not list the same classes"):
        per_class_comparison({"plain": per_class([0.5, 0.7]), "residual": other}, "accuracy")


def per_seed_table(accuracies: dict[str, list[float]], seeds=(11, 12, 13)) -> pd.DataFrame:
    """A made-up per-seed table: each variant's test accuracies, seed by seed."""
    rows = [
        {"variant": variant, "seed": seed, "test_accuracy": accuracy, "test_loss": 1 - accuracy, "chosen_epoch": 3}
        | {"worst_class": "cat", "worst_class_accuracy": 0.3, "most_confused_with": "dog"}
        for variant, values in accuracies.items()
        for seed, accuracy in zip(seeds, values)
    ]
    return pd.DataFrame(rows, columns=replicates.PER_SEED_COLUMNS)


def seed_points(axes) -> dict[tuple[str, int], float]:
    """The plotted accuracy of every (variant, seed), read back from the points' slot and colour."""
    variants = [label.get_text().split("\n")[0] for label in axes.get_xticklabels()]
    legend = axes.get_legend()
    seed_of = {
        to_rgba(handle.get_markerfacecolor()): int(text.get_text().removeprefix("seed "))
        for handle, text in zip(legend.legend_handles, legend.get_texts())
        if text.get_text().startswith("seed ")
    }
    points = {}
    for collection in axes.collections:
        for (x, y), colour in zip(collection.get_offsets(), collection.get_facecolors()):
            points[variants[round(x)], seed_of[tuple(colour)]] = y
    return points


def means_and_bands(axes):
    means = [line.get_ydata()[0] for line in axes.get_lines() if line.get_label() == "_mean"]
    bands = [
        (band.get_y(), band.get_y() + band.get_height()) for band in axes.patches if band.get_label() == "_interval"
    ]
    return means, bands


def test_replicate_accuracy_shows_every_seed_over_the_mean_and_its_t_interval(tmp_path):
    per_seed = per_seed_table({"plain": [0.60, 0.62, 0.61], "residual": [0.62, 0.65, 0.62]})
    summary = replicates.variant_summary(per_seed)
    figure = replicate_accuracy(per_seed, summary, "Test accuracy")
    (axes,) = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title()) == ("variant", "test accuracy", "Test accuracy")
    assert [label.get_text() for label in axes.get_xticklabels()] == ["plain\n(3 seeds)", "residual\n(3 seeds)"]
    expected = {(row.variant, row.seed): row.test_accuracy for row in per_seed.itertuples()}
    assert seed_points(axes) == pytest.approx(expected)
    means, bands = means_and_bands(axes)
    assert means == pytest.approx(summary["test_accuracy_mean"].tolist())
    assert np.ravel(bands) == pytest.approx(np.ravel(list(zip(summary["ci95_low"], summary["ci95_high"]))))
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["seed 11", "seed 12", "seed 13", "mean over seeds", "95% t interval of the mean"]
    save_figure(figure, tmp_path / "accuracy.png", tmp_path / "accuracy.svg")


def test_replicate_accuracy_draws_just_the_mean_of_a_single_seed(tmp_path):
    per_seed = pd.concat(
        [per_seed_table({"plain": [0.60, 0.64]}), per_seed_table({"residual": [0.63]}, seeds=(12,))],
        ignore_index=True,
    )
    summary = replicates.variant_summary(per_seed)
    figure = replicate_accuracy(per_seed, summary, "Test accuracy")
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["plain\n(2 seeds)", "residual\n(1 seed)"]
    assert seed_points(axes) == pytest.approx({("plain", 11): 0.60, ("plain", 12): 0.64, ("residual", 12): 0.63})
    means, bands = means_and_bands(axes)
    assert means == pytest.approx([0.62, 0.63])
    assert np.ravel(bands) == pytest.approx([summary["ci95_low"][0], summary["ci95_high"][0]])  # residual's: NaN
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["seed 11", "seed 12", "mean over seeds", "95% t interval of the mean"]
    save_figure(figure, tmp_path / "accuracy.png", tmp_path / "accuracy.svg")


def test_replicate_accuracy_of_one_seed_each_names_no_interval():
    per_seed = per_seed_table({"plain": [0.60], "residual": [0.63]}, seeds=(12,))
    (axes,) = replicate_accuracy(per_seed, replicates.variant_summary(per_seed), "Test accuracy").axes
    assert means_and_bands(axes) == ([0.60, 0.63], [])
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["seed 12", "mean over seeds"]


def test_replicate_accuracy_refuses_seeds_of_a_variant_the_summary_lacks():
    per_seed = per_seed_table({"plain": [0.60, 0.64], "residual": [0.6, 0.7]})
    summary = replicates.variant_summary(per_seed[per_seed["variant"] == "plain"])
    with pytest.raises(InputError, match="residual"):
        replicate_accuracy(per_seed, summary, "Test accuracy")


CLASS_ORDER = ["ship", "cat", "dog"]  # file order, not alphabetical


def per_class_over_seeds(accuracies: dict[tuple[str, int], list[float]]) -> pd.DataFrame:
    """A made-up per_class_table: each (variant, seed)'s accuracies in CLASS_ORDER."""
    rows = [
        {"variant": variant, "seed": seed, "class": name, "accuracy": accuracy}
        for (variant, seed), values in accuracies.items()
        for name, accuracy in zip(CLASS_ORDER, values)
    ]
    return pd.DataFrame(rows)


def error_bar_spans(axes) -> dict[float, tuple[float, float]]:
    """Every error bar's (low, high), by its x position."""
    spans = {}
    for container in axes.containers:
        if isinstance(container, plt.matplotlib.container.ErrorbarContainer):
            for (x, low), (_, high) in container.lines[2][0].get_segments():
                spans[round(x, 6)] = (low, high)
    return spans


def test_replicate_per_class_shows_the_mean_over_seeds_with_its_t_interval(tmp_path):
    summary = replicates.per_class_summary(
        per_class_over_seeds(
            {
                ("plain", 1): [0.8, 0.3, 0.5],
                ("plain", 2): [0.9, 0.4, 0.6],
                ("residual", 1): [0.85, 0.5, 0.6],
                ("residual", 2): [0.95, 0.4, 0.7],
            }
        )
    )
    figure = replicate_per_class(summary, "Per class")
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == CLASS_ORDER
    assert axes.get_ylabel() == "test accuracy, mean over seeds\n(95% t interval)"
    plain, residual = axes.containers[:2]
    assert [bar.get_height() for bar in plain] == pytest.approx([0.85, 0.35, 0.55])
    assert [bar.get_height() for bar in residual] == pytest.approx([0.9, 0.45, 0.65])
    spans = error_bar_spans(axes)
    for bars, variant in ((plain, "plain"), (residual, "residual")):
        rows = summary[summary["variant"] == variant]
        centres = [round(bar.get_x() + bar.get_width() / 2, 6) for bar in bars]
        expected = list(zip(rows["ci95_low"], rows["ci95_high"]))
        assert np.ravel([spans[centre] for centre in centres]) == pytest.approx(np.ravel(expected))
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["plain (2 seeds)", "residual (2 seeds)"]
    assert summary["ci95_clipped"].any()  # two seeds' intervals pass 1 before they are cut there
    assert axes.get_ylim() == (0, 1)
    save_figure(figure, tmp_path / "per_class.png", tmp_path / "per_class.svg")


def test_replicate_per_class_of_a_single_seed_has_no_error_bars(tmp_path):
    summary = replicates.per_class_summary(
        per_class_over_seeds({("plain", 1): [0.8, 0.3, 0.5], ("residual", 1): [0.85, 0.5, 0.6]})
    )
    figure = replicate_per_class(summary, "Per class")
    (axes,) = figure.axes
    plain, residual = axes.containers[:2]
    assert [bar.get_height() for bar in residual] == pytest.approx([0.85, 0.5, 0.6])
    assert error_bar_spans(axes) == {}
    assert axes.get_ylim() == (0, 1)
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["plain (1 seed)", "residual (1 seed)"]
    save_figure(figure, tmp_path / "per_class.png", tmp_path / "per_class.svg")


def test_replicate_per_class_refuses_variants_of_different_classes():
    table = per_class_over_seeds({("plain", 1): [0.8, 0.3, 0.5], ("residual", 1): [0.85, 0.5, 0.6]})
    table.loc[table.index[-1], "class"] = "emu"
    with pytest.raises(InputError, match="same classes"):
        replicate_per_class(replicates.per_class_summary(table), "Per class")


def run_entry_script(name: str, **job) -> None:
    """Run workflow/scripts/``name`` as Snakemake would, its ``snakemake`` object made of ``job``'s parts."""
    snakemake = SimpleNamespace(log=[], **{part: SimpleNamespace(**values) for part, values in job.items()})
    runpy.run_path(str(SCRIPTS / name), init_globals={"snakemake": snakemake})


def figure_outputs(folder, *names):
    return {f"{name}_{kind}": str(folder / f"{name}.{kind}") for name in names for kind in ("png", "svg")}


def test_plot_replicates_reads_the_pandas_tables_and_saves_both_figures(tmp_path, restore_root_logging):
    per_seed = per_seed_table({"plain": [0.60, 0.62, 0.61], "residual": [0.63]})
    per_class = replicates.per_class_summary(
        per_class_over_seeds({("plain", 1): [0.8, 0.3, 0.5], ("residual", 1): [0.9, 0.4, 0.6]})
    )
    inputs = {
        "per_seed": tmp_path / "per_seed.csv",
        "variants": tmp_path / "variants.csv",
        "per_class": tmp_path / "pc.csv",
    }
    per_seed.to_csv(inputs["per_seed"], index=False)
    replicates.variant_summary(per_seed).to_csv(inputs["variants"], index=False)  # residual: NaN interval
    per_class.to_csv(inputs["per_class"], index=False)
    outputs = figure_outputs(tmp_path, "accuracy", "per_class")
    run_entry_script(
        "classifier/plot_replicates.py", input={key: str(path) for key, path in inputs.items()}, output=outputs
    )
    for path in outputs.values():
        assert Path(path).stat().st_size > 0
    assert Path(outputs["accuracy_png"]).read_bytes().startswith(b"\x89PNG")


def test_plot_val_loss_variants_pairs_each_run_with_its_files(tmp_path, restore_root_logging, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the job finds each run's files (paths.*)
    histories, bests = [], []
    for (variant, seed), (values, best) in RUNS.items():
        rows = [
            {"epoch": epoch, "train_loss": 2.0, "val_loss": loss, "val_accuracy": 0.5, "seconds": 1.0}
            | {"images_per_s": 100.0, "device": "cpu", "precision": "fp32", "threads": 2}
            for epoch, loss in enumerate(values, start=1)
        ]
        histories.append(paths.fill(paths.TRAIN_HISTORY, variant=variant, seed=seed))
        write_history(histories[-1], rows)
        bests.append(paths.fill(paths.TRAIN_BEST, variant=variant, seed=seed))
        record = {"variant": variant, "val_accuracy": 0.5, "train_loss": 2.0, "checkpoint": "-", "rule": "-"}
        write_best(bests[-1], record | best | {"epochs": len(values)})
    outputs = {"png": str(tmp_path / "val_loss.png"), "svg": str(tmp_path / "val_loss.svg")}
    run_entry_script(
        "classifier/plot_val_loss_variants.py",
        # the inputs Snakemake is given, in another order than the runs: the job finds each file by its run
        input={"histories": histories[::-1], "best": bests[::-1]},
        params={"runs": [list(run) for run in RUNS]},  # as YAML or a Snakefile gives them: lists
        output=outputs,
    )
    assert Path(outputs["png"]).read_bytes().startswith(b"\x89PNG")
