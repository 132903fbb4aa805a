"""The seaborn figures, drawn from small made-up tables: what each axis shows, its labels and its data."""

import numpy as np
import pandas as pd
import pytest

from torchbasics.errors import InputError
from torchbasics.figures import plt, save_figure
from torchbasics.plots_part1 import psnr_heatmap
from torchbasics.plots_part2 import confusion_heatmap, per_class_comparison, validation_loss_curves


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


def test_validation_loss_curves_draw_every_variant_and_mark_its_chosen_epoch():
    histories = {"plain": history([2.0, 1.5, 1.7]), "residual": history([1.8, 1.2, 1.1])}
    bests = {"plain": {"epoch": 2, "val_loss": 1.5}, "residual": {"epoch": 3, "val_loss": 1.1}}
    figure = validation_loss_curves(histories, bests, "Validation loss")
    (axes,) = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("epoch", "validation cross-entropy loss")
    curves = [line for line in axes.get_lines() if line.get_label().startswith("_")]  # seaborn's data lines
    stars = {line.get_label(): line for line in axes.get_lines() if "chosen epoch" in line.get_label()}
    for (variant, values), curve in zip(histories.items(), curves, strict=True):
        assert list(curve.get_xdata()) == [1, 2, 3] and list(curve.get_ydata()) == values["val_loss"].tolist()
        star = stars[f"{variant}: chosen epoch {bests[variant]['epoch']} (val loss {bests[variant]['val_loss']:.3f})"]
        assert (list(star.get_xdata()), list(star.get_ydata())) == (
            [bests[variant]["epoch"]],
            [bests[variant]["val_loss"]],
        )
        assert star.get_color() == curve.get_color()  # the mark in its variant's colour
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert "plain" in legend and "residual: chosen epoch 3 (val loss 1.100)" in legend


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
