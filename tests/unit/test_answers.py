"""The page's worded answers follow the evidence: made-up evidence that flips a finding flips its wording."""

import numpy as np
import pandas as pd
import pytest

from torchbasics.denoise import norms
from torchbasics.report import answers

CLASSES = ["cat", "dog", "ship"]


def autograd_summary(error_at_quarter_pi=2e-8, max_abs_error=5e-8, n_terms=10):
    return {
        "n_terms": n_terms,
        "dtype": "float32",
        "cos_quarter_pi": 0.7071067811865476,
        "error_at_quarter_pi": error_at_quarter_pi,
        "n_points": 100,
        "max_abs_error": max_abs_error,
    }


# ------------------------------------------------------------------------------------------ 1.1


def test_a_rounding_level_error_is_called_as_close_as_the_format_allows():
    verdict = answers.quarter_pi_verdict(autograd_summary(error_at_quarter_pi=5.96e-8))
    assert "5.96e-08 apart" in verdict  # float32's spacing near 0.707
    assert "1.0 times that spacing: as close as the number format allows" in verdict


def test_an_error_beyond_rounding_blames_the_truncated_series():
    verdict = answers.quarter_pi_verdict(autograd_summary(error_at_quarter_pi=3e-4, n_terms=3))
    assert "more than rounding explains, so the series cut after 3 terms limits the result" in verdict
    assert "as close as" not in verdict


def test_the_sum_backward_answer_explains_and_judges_the_largest_error():
    close = answers.sum_backward_answer(autograd_summary(max_abs_error=1.2e-7))
    assert "dummy scalar" in close and "over the 100 points" in close
    assert "as close as the number format allows" in close
    far = answers.sum_backward_answer(autograd_summary(max_abs_error=1e-3, n_terms=4))
    assert "series cut after 4 terms" in far


# ------------------------------------------------------------------------------------------ 1.2


def best(l1_psnr=25.0, l2_psnr=24.0, l1_ssim=0.8, l2_ssim=0.7):
    return {
        "L1": {"lr": 0.9, "alpha": 1.5, "psnr": l1_psnr, "ssim": l1_ssim},
        "L2": {"lr": 0.9, "alpha": 13.5, "psnr": l2_psnr, "ssim": l2_ssim},
    }


def test_problems_name_metrics_that_disagree_on_the_better_norm_only_then():
    assert answers.norm_disagreement(best(), "L1", "L2") is None
    assert answers.norm_disagreement(best(l2_psnr=26.0, l2_ssim=0.9), "L1", "L2") is None
    note = answers.norm_disagreement(best(l2_psnr=26.0), "L1", "L2")
    assert note.startswith("PSNR and SSIM disagree on the better norm: L2 by PSNR (26.00 against 25.00 dB), L1 by")


def test_norm_verdict_follows_psnr_and_ssim():
    assert "L2 did worse than L1 by both measures" in answers.norm_verdict(best(), "L1", "L2")
    assert "L2 did better than L1 by both measures" in answers.norm_verdict(best(l2_psnr=26.0, l2_ssim=0.9), "L1", "L2")
    split = answers.norm_verdict(best(l2_psnr=26.0), "L1", "L2")
    assert "depends on the measure: L2 wins by PSNR but L1 by SSIM" in split


def regions(l1_edges, l2_edges, l1_flat=30.0, l2_flat=29.0):
    rows = [
        ("noisy", np.nan, np.nan, "edges", 14.0),
        ("noisy", np.nan, np.nan, "flat", 15.0),
        ("L1", 0.9, 1.5, "edges", l1_edges),
        ("L1", 0.9, 1.5, "flat", l1_flat),
        ("L2", 0.9, 13.5, "edges", l2_edges),
        ("L2", 0.9, 13.5, "flat", l2_flat),
    ]
    return pd.DataFrame(rows, columns=["norm", "lr", "alpha", "region", "psnr"])


def test_the_edge_argument_appears_only_when_l1_keeps_edges_better():
    kept = answers.regions_answer(best(), regions(l1_edges=22.0, l2_edges=20.0), "L1", "L2")
    assert "on edges L1 reaches 22.00 dB and L2 20.00 dB" in kept
    assert "L1 keeps edges better" in kept and "blurs edges" in kept
    not_kept = answers.regions_answer(best(), regions(l1_edges=20.0, l2_edges=22.0), "L1", "L2")
    assert "L1 keeps edges better" not in not_kept
    assert "L2 is at least as good on edge pixels" in not_kept


def test_the_flat_region_winner_and_the_larger_difference_follow_the_numbers():
    l1_flat = answers.regions_answer(best(), regions(22.0, 20.0, l1_flat=30, l2_flat=29), "L1", "L2")
    assert "L1 does better too (1.00 dB)" in l1_flat and "leaves small noise nearly untouched" in l1_flat
    assert "The larger difference is on edges (1.00 dB on flat pixels, 2.00 dB on edges)" in l1_flat
    l2_flat = answers.regions_answer(best(), regions(22.0, 20.0, l1_flat=30, l2_flat=33), "L1", "L2")
    assert "L2 does better (3.00 dB)" in l2_flat and "nearly untouched" not in l2_flat
    assert "The larger difference is on flat pixels (3.00 dB on flat pixels, 2.00 dB on edges)" in l2_flat


def test_a_norm_without_a_known_mechanism_gets_only_what_the_evidence_shows(monkeypatch):
    toy = norms.Norm("Huber", penalty=abs, derivative=abs, label="Huber losses", question=None)
    monkeypatch.setitem(norms.REGISTRY, "Huber", toy)
    evidence = regions(l1_edges=22.0, l2_edges=20.0).replace("L2", "Huber")
    chosen = {"L1": best()["L1"], "Huber": best()["L2"]}
    text = answers.regions_answer(chosen, evidence, "L1", "Huber")
    assert "on edges L1 reaches 22.00 dB and Huber 20.00 dB" in text and "L1 keeps edges better." in text
    assert "L1 does better too (1.00 dB)." in text and "squared" not in text
    kept = answers.regions_answer(chosen, regions(20.0, 22.0, l2_flat=31.0).replace("L2", "Huber"), "L1", "Huber")
    assert "Huber is at least as good on edge pixels." in kept and "Huber does better (1.00 dB)." in kept
    assert "Better or worse: Huber did worse than L1" in answers.norm_verdict(chosen, "L1", "Huber")


def grid_results(l1_psnr, l2_psnr, l1_ssim=None, l2_ssim=None, lrs=(0.3, 0.9, 2.7), alphas=(0.5, 1.5, 4.5)):
    """One row per (norm, lr, alpha); PSNRs and SSIMs given as functions of (lr, alpha)."""
    rows = []
    for norm, psnr, ssim in (("L1", l1_psnr, l1_ssim), ("L2", l2_psnr, l2_ssim)):
        for lr in lrs:
            for alpha in alphas:
                value = psnr(lr, alpha)
                rows.append(
                    {
                        "norm": norm,
                        "lr": lr,
                        "alpha": alpha,
                        "psnr": value,
                        "ssim": (ssim or (lambda lr, alpha, v=value: v / 40))(lr, alpha),
                    }
                )
    return pd.DataFrame(rows)


def test_the_same_setting_is_the_reference_reports_when_the_grid_holds_it():
    results = grid_results(lambda lr, alpha: 20 + alpha, lambda lr, alpha: 21 + alpha)
    setting = answers.same_setting(results)
    assert (setting["lr"], setting["alpha"], setting["why"]) == (0.9, 1.5, "the reference report's setting")
    rows = answers.same_setting_rows(results, None, setting)
    assert {row["norm"]: row["psnr"] for row in rows} == {"L1": 21.5, "L2": 22.5}
    assert "L2 is better than L1 by 1.00 dB" in answers.same_setting_answer(rows, setting, "L1", "L2")
    other = grid_results(lambda lr, alpha: 20, lambda lr, alpha: 19, lrs=(0.1, 0.2, 0.4), alphas=(1.0, 2.0))
    centre = answers.same_setting(other)
    assert (centre["lr"], centre["alpha"], centre["why"]) == (0.2, 1.0, "the grid's centre")
    rows = answers.same_setting_rows(other, None, centre)
    assert "L2 is worse than L1 by 1.00 dB" in answers.same_setting_answer(rows, centre, "L1", "L2")


def test_problems_name_a_best_setting_on_the_grid_edge_only_when_psnr_rises_towards_it():
    results = grid_results(
        lambda lr, alpha: 20 - abs(alpha - 1.5) - abs(lr - 0.9), lambda lr, alpha: 20 + alpha - lr / 10
    )
    chosen = {"L1": {"lr": 0.9, "alpha": 1.5, "psnr": 20.0}, "L2": {"lr": 0.3, "alpha": 4.5, "psnr": 24.47}}
    notes = answers.grid_edge_settings(results, chosen)
    assert not any(note.startswith("L1") for note in notes)
    assert "L2's best setting has lr 0.3, the grid's smallest, 0.06 dB above lr 0.9" in notes[0]
    assert "L2's best setting has alpha 4.5, the grid's largest, 3.00 dB above alpha 1.5" in notes[1]
    flat_in_lr = grid_results(lambda lr, alpha: 20, lambda lr, alpha: 20 + alpha - lr / 1000)
    notes = answers.grid_edge_settings(flat_in_lr, {"L2": {"lr": 0.3, "alpha": 4.5, "psnr": 24.4997}})
    assert len(notes) == 1 and "alpha 4.5, the grid's largest" in notes[0]  # lr 0.3 is no better than 0.9


def test_problems_name_a_norm_insensitive_to_lr():
    flat_in_lr = grid_results(lambda lr, alpha: 20 + alpha + lr / 1000, lambda lr, alpha: 20 + alpha + lr)
    chosen = {"L1": {"lr": 2.7, "alpha": 4.5}, "L2": {"lr": 2.7, "alpha": 4.5}}
    notes = answers.lr_insensitive_norms(flat_in_lr, chosen)
    assert len(notes) == 1 and notes[0].startswith("L1's PSNR at alpha 4.5 changes by only 0.002 dB")


def test_problems_name_psnr_and_ssim_disagreeing_on_the_best_setting():
    psnr = lambda lr, alpha: 20 + alpha  # noqa: E731  best at the largest alpha
    results = grid_results(psnr, psnr, l1_ssim=lambda lr, alpha: 1 - alpha / 10, l2_ssim=lambda lr, alpha: alpha / 10)
    chosen = {
        norm: {"lr": 0.3, "alpha": 4.5, "psnr": 24.5, "ssim": float(results.query("norm == @norm")["ssim"].iloc[2])}
        for norm in ("L1", "L2")
    }
    notes = answers.metric_disagreements(results, chosen)
    assert len(notes) == 1 and notes[0].startswith("L1: PSNR and SSIM disagree")
    assert "SSIM picks lr 0.3, alpha 0.5" in notes[0]


# ------------------------------------------------------------------------------------------ 2.0 g iv


def confusion(cat_as_dog=0.3, dog_as_cat=0.2, dog_as_ship=0.1):
    table = pd.DataFrame(
        [[1 - cat_as_dog - 0.05, cat_as_dog, 0.05], [dog_as_cat, 1 - dog_as_cat - dog_as_ship, dog_as_ship]],
        columns=CLASSES,
        index=["cat", "dog"],
    )
    table.loc["ship"] = [0.02, 0.03, 0.95]
    return table


def test_a_pair_confused_both_ways_is_called_so():
    both = answers.mutual_confusion_answer(confusion(), "cat", "dog")
    assert "runs both ways: 30.0% of cat images are called dog, and 20.0% of dog images are called cat" in both
    assert answers.both_ways_pairs("plain", confusion(), "cat", "dog").startswith("plain: cat and dog")


def test_a_one_way_confusion_names_the_partners_own_mistake():
    one_way = answers.mutual_confusion_answer(confusion(dog_as_cat=0.02, dog_as_ship=0.2), "cat", "dog")
    assert "runs one way" in one_way and "only 2.0% of dog images are called cat" in one_way
    assert "dog is most often taken for ship" in one_way
    assert answers.both_ways_pairs("plain", confusion(dog_as_cat=0.02, dog_as_ship=0.2), "cat", "dog") is None


def predictions(error_confidences, right_confidences):
    rows = [("cat", "dog", value) for value in error_confidences]
    rows += [("cat", "cat", value) for value in right_confidences]
    rows += [("dog", "dog", 0.99)]
    return pd.DataFrame(rows, columns=["true", "predicted", "confidence"])


def test_confident_and_hesitant_mistakes_are_told_apart():
    confident = answers.confidence_answer(predictions([0.8, 0.9, 0.7], [0.95, 0.9]), "cat", "dog")
    assert "On the 3 cat images it called dog the network's median confidence was 0.80" in confident
    assert "against 0.93 on the 2 it got right" in confident and "confident mistakes" in confident
    hesitant = answers.confidence_answer(predictions([0.4, 0.35, 0.45], [0.95]), "cat", "dog")
    assert "median confidence was 0.40" in hesitant and "hesitant mistakes" in hesitant
    none = answers.confidence_answer(predictions([], [0.9]), "cat", "dog")
    assert "No cat image was called dog" in none


def by_epoch(cat, dog, ship=(0.9, 0.9, 0.9)):
    rows = []
    for name, accuracies in (("cat", cat), ("dog", dog), ("ship", ship)):
        for epoch, accuracy in enumerate(accuracies, start=1):
            rows.append(
                {"epoch": epoch, "class": name, "n": 100, "correct": round(100 * accuracy), "accuracy": accuracy}
            )
    return pd.DataFrame(rows)


def test_the_pairs_accuracy_over_the_epochs_is_read_from_the_table():
    moved = answers.pair_over_epochs_answer(by_epoch((0.1, 0.3, 0.35), (0.5, 0.6, 0.55)), "cat", "dog", 2)
    assert "cat 10.0% at epoch 1, 30.0% at the chosen epoch 2, 35.0% at the last (3)" in moved
    assert "dog 50.0% at epoch 1, 60.0% at the chosen epoch 2, 55.0% at the last (3)" in moved
    assert "all classes: 50.0% to 60.0%" in moved
    at_last = answers.pair_over_epochs_answer(by_epoch((0.1, 0.3, 0.35), (0.5, 0.6, 0.55)), "cat", "dog", 3)
    assert "at the last" not in at_last and "35.0% at the chosen epoch 3" in at_last


def history(val_losses, train_losses=None):
    epochs = range(1, len(val_losses) + 1)
    return pd.DataFrame(
        {"epoch": list(epochs), "val_loss": val_losses, "train_loss": train_losses or [2.0 - e / 10 for e in epochs]}
    )


def test_undertraining_follows_the_last_epochs_validation_loss():
    falling = answers.undertraining_answer(history([1.5, 1.3, 1.2, 1.1]))
    assert falling.startswith("Undertrained: validation loss was still falling") and "-0.1000" in falling
    rising = answers.undertraining_answer(history([1.5, 1.0, 1.1, 1.2, 1.3, 1.4]))
    assert rising.startswith("Not undertrained: validation loss bottomed out at epoch 2 (1.0000)")


def test_problems_name_a_last_epoch_choice_only_when_it_happens():
    assert "training had not converged" in answers.last_epoch_chosen("plain", {"epoch": 15, "epochs": 15})
    assert answers.last_epoch_chosen("plain", {"epoch": 9, "epochs": 15}) is None


def test_the_residual_why_follows_the_training_losses():
    plain = history([1.2, 1.1], train_losses=[1.8, 1.4])
    faster = answers.faster_fit_answer(
        {"plain": plain, "residual": history([1.2, 1.0], [1.7, 1.2])}, "plain", "residual"
    )
    assert "training loss of residual is 1.2000 against 1.4000 for plain" in faster
    assert "residual fits the training data faster" in faster
    slower = answers.faster_fit_answer(
        {"plain": plain, "residual": history([1.2, 1.0], [1.7, 1.5])}, "plain", "residual"
    )
    assert "does not fit the training data faster" in slower


@pytest.mark.parametrize("implementation, batched", [("fast", True), ("reference", False)])
def test_method_notes_state_the_l2_reading_and_name_the_batched_path_when_used(implementation, batched):
    notes = answers.method_notes(implementation, ["L1", "L2"])
    assert notes[0] == norms.norm("L2").note and "squared norms" in notes[0]
    assert not any("squared norms" in note for note in answers.method_notes(implementation, ["L1"]))
    assert any("batched_augment" in note for note in notes) == batched
