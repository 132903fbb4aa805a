"""The page's worded answers to the handout's "why" questions, each derived from this run's evidence.

Every function takes evidence read from the stages' files (dicts and DataFrames) and returns sentences carrying the
numbers that support them: other evidence gives other wording. The only fixed sentences describe the method (what
the code computes and why it was built so), never a result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from torchbasics.classifier import variants
from torchbasics.denoise import norms
from torchbasics.report.markup import Code, Paragraph

# An error within this many spacings of adjacent floating-point numbers is rounding, not approximation.
ROUNDING_SPACINGS = 4.0
# The reference student report's denoising setting: the grid is built around it, and both norms are compared there.
REFERENCE_SETTING = {"lr": 0.9, "alpha": 1.5}
# PSNR differences below this (dB) are no difference: a result that moves less with a setting does not depend on it.
NO_CHANGE_DB = 0.05
# Errors made with a median confidence above this are confident mistakes rather than coin flips.
CONFIDENT_MEDIAN = 0.5


def pct(value: float) -> str:
    return f"{100 * float(value):.1f}%"


def _spacing(value: float, dtype: str) -> float:
    """The gap between adjacent numbers of ``dtype`` near ``value``: the resolution of a result of that size."""
    return float(np.spacing(np.abs(np.array(value, dtype=dtype))))


def _rounding_verdict(error: float, spacing: float, n_terms: int) -> str:
    spacings = error / spacing
    if spacings <= ROUNDING_SPACINGS:
        return (
            f"{spacings:.1f} times that spacing: as close as the number format allows, so rounding, not the "
            f"truncated series, limits the result"
        )
    return (
        f"{spacings:.0f} times that spacing: more than rounding explains, so the series cut after {n_terms} terms "
        f"limits the result and more terms would shrink the error"
    )


# ------------------------------------------------------------------------------------------ 1.1 autograd


def quarter_pi_verdict(summary: dict) -> str:
    """1.1 b: is dz/dx at pi/4 close to cos(pi/4), measured against the resolution of the dtype?"""
    n_terms, dtype = summary["n_terms"], summary["dtype"]
    spacing = _spacing(summary["cos_quarter_pi"], dtype)
    # the first term the derivative's series leaves out: x^(2n) / (2n)! at pi/4
    omitted = (math.pi / 4) ** (2 * n_terms) / math.factorial(2 * n_terms)
    return (
        f"Verdict: {dtype} numbers near cos(pi/4) are {spacing:.2e} apart, and the error is "
        f"{_rounding_verdict(summary['error_at_quarter_pi'], spacing, n_terms)} (the first term the series leaves "
        f"out is {omitted:.1e})."
    )


def sum_backward_answer(summary: dict) -> Paragraph:
    """1.1 c: what ``y.sum().backward()`` does (method), and how close its gradients came (evidence)."""
    spacing = _spacing(1.0, summary["dtype"])  # |cos x| <= 1: the coarsest spacing of the results
    return Paragraph(
        "What happens: ",
        Code("y.sum()"),
        " is a dummy scalar z = y_1 + ... + y_n, so ",
        Code("backward()"),
        " fills x.grad with dz/dx_i = sum_j dy_j/dx_i. The series is applied to each point on its own, so y_j "
        "depends on x_j alone and every term with j != i is zero: x.grad holds each point's own derivative "
        f"dy_i/dx_i, all of them from one backward pass. Evidence: over the {summary['n_points']} points the "
        f"largest error against cos(x) is {summary['max_abs_error']:.2e}; {summary['dtype']} numbers near 1 are "
        f"{spacing:.2e} apart, so the error is "
        f"{_rounding_verdict(summary['max_abs_error'], spacing, summary['n_terms'])}.",
    )


# ------------------------------------------------------------------------------------------ 1.2 denoising


def _better_by(best: dict, reference: str, other: str, measure: str) -> str:
    """The norm of the two whose best setting scores higher by ``measure``; the reference on a tie."""
    return other if best[other][measure] > best[reference][measure] else reference


def norm_verdict(best: dict, reference: str, other: str) -> str:
    """1.2 c: whether ``other`` did better than the ``reference`` norm by PSNR and by SSIM, and whether the two
    metrics agree."""
    ref, oth = best[reference], best[other]
    by_psnr, by_ssim = (_better_by(best, reference, other, measure) for measure in ("psnr", "ssim"))
    numbers = (
        f"(best settings: PSNR {oth['psnr']:.2f} dB for {other} against {ref['psnr']:.2f} dB for {reference}, SSIM "
        f"{oth['ssim']:.3f} against {ref['ssim']:.3f})"
    )
    if by_psnr == by_ssim:
        verdict = "better" if by_psnr == other else "worse"
        return f"Better or worse: {other} did {verdict} than {reference} by both measures {numbers}."
    return (
        f"Better or worse depends on the measure: {by_psnr} wins by PSNR but {by_ssim} by SSIM {numbers}. PSNR "
        "counts every pixel's squared error alike; SSIM compares local structure (contrast and correlation in small "
        "windows), so the two disagree when one result is closer on average and the other keeps more texture."
    )


def _region_psnr(regions: pd.DataFrame, norm: str, lr, alpha, region: str) -> float:
    rows = regions[regions["region"] == region]
    rows = rows[rows["norm"] == norm]
    if norm != "noisy":
        rows = rows[np.isclose(rows["lr"], lr) & np.isclose(rows["alpha"], alpha)]
    if rows.empty:
        raise KeyError(f"no {region} row for {norm} lr={lr} alpha={alpha}")
    return float(rows["psnr"].iloc[0])


def regions_answer(best: dict, regions: pd.DataFrame, reference: str, other: str) -> str:
    """1.2 c, why: where ``other`` and the ``reference`` norm win, on edge pixels and on flat ones, each at its best
    setting; with the explanation the norm table gives for ``other``, where it has one."""
    psnr = {
        (norm, region): _region_psnr(regions, norm, best[norm]["lr"], best[norm]["alpha"], region)
        for norm in (reference, other)
        for region in ("edges", "flat")
    }
    contrast = norms.norm(other).contrast
    noisy = {region: _region_psnr(regions, "noisy", None, None, region) for region in ("edges", "flat")}
    sentences = [
        f"Why, by region (edges: the tenth of pixels where the clean image changes fastest; flat: the half where it "
        f"changes least; noisy input {noisy['edges']:.2f} and {noisy['flat']:.2f} dB): on edges {reference} "
        f"reaches {psnr[reference, 'edges']:.2f} dB and {other} {psnr[other, 'edges']:.2f} dB; on flat pixels "
        f"{reference} {psnr[reference, 'flat']:.2f} dB and {other} {psnr[other, 'flat']:.2f} dB."
    ]
    flat_gap = psnr[reference, "flat"] - psnr[other, "flat"]
    edge_gap = psnr[reference, "edges"] - psnr[other, "edges"]
    if edge_gap > 0:
        sentences.append(f"{reference} keeps edges better." + (f" {contrast.edges_lost}" if contrast else ""))
    else:
        sentences.append(contrast.edges_kept if contrast else f"{other} is at least as good on edge pixels.")
    flats = "On flat pixels, where removing noise is all that matters,"
    if flat_gap > 0:
        why = f": {contrast.flats_lost}" if contrast else "."
        sentences.append(f"{flats} {reference} does better too ({flat_gap:.2f} dB){why}")
    else:
        sentences.append(f"{flats} {other} does better ({-flat_gap:.2f} dB).")
    larger = "flat pixels" if abs(flat_gap) > abs(edge_gap) else "edges"
    sentences.append(
        f"The larger difference is on {larger} ({abs(flat_gap):.2f} dB on flat pixels, {abs(edge_gap):.2f} dB on "
        "edges)."
    )
    return " ".join(sentences)


def same_setting(results: pd.DataFrame) -> dict:
    """The setting at which both norms are compared side by side: the reference report's when the grid holds it,
    else the grid's centre."""
    lrs, alphas = sorted(set(results["lr"])), sorted(set(results["alpha"]))
    if any(np.isclose(lrs, REFERENCE_SETTING["lr"])) and any(np.isclose(alphas, REFERENCE_SETTING["alpha"])):
        return {**REFERENCE_SETTING, "why": "the reference report's setting"}
    return {"lr": lrs[(len(lrs) - 1) // 2], "alpha": alphas[(len(alphas) - 1) // 2], "why": "the grid's centre"}


def same_setting_rows(results: pd.DataFrame, regions: pd.DataFrame | None, setting: dict) -> list[dict]:
    """Each norm at ``setting``: PSNR, SSIM and, with the region table, edge and flat PSNR."""
    chosen = results[np.isclose(results["lr"], setting["lr"]) & np.isclose(results["alpha"], setting["alpha"])]
    rows = []
    for row in chosen.to_dict("records"):
        entry = {"norm": row["norm"], "psnr": row["psnr"], "ssim": row["ssim"]}
        if regions is not None:
            for region in ("edges", "flat"):
                entry[region] = _region_psnr(regions, row["norm"], setting["lr"], setting["alpha"], region)
        rows.append(entry)
    return rows


def same_setting_answer(rows: list[dict], setting: dict, reference: str, other: str) -> str:
    by_norm = {row["norm"]: row for row in rows}
    ref, oth = by_norm[reference], by_norm[other]
    difference = oth["psnr"] - ref["psnr"]
    return (
        f"At one and the same setting, {setting['why']} (lr {setting['lr']}, alpha {setting['alpha']}), {other} is "
        f"{'better' if difference > 0 else 'worse'} than {reference} by {abs(difference):.2f} dB of PSNR and "
        f"{'higher' if oth['ssim'] > ref['ssim'] else 'lower'} in SSIM ({oth['ssim']:.3f} against "
        f"{ref['ssim']:.3f}): "
        "the same alpha weighs the two penalties differently, which is why each norm's own best setting is the "
        "fairer comparison."
    )


# ------------------------------------------------------------------------------------------ 2.0 g iv


def _top_mistake(confusion: pd.DataFrame, name: str) -> str:
    mistakes = confusion.loc[name].drop(name)
    return str(mistakes.idxmax())


def mutual_confusion(confusion: pd.DataFrame, worst: str, partner: str) -> dict:
    """Both directions of the worst pair's confusion, and whether each is the other's most frequent mistake."""
    partner_top = _top_mistake(confusion, partner)
    return {
        "worst_as_partner": float(confusion.loc[worst, partner]),
        "partner_as_worst": float(confusion.loc[partner, worst]),
        "partner_top_mistake": partner_top,
        "both_ways": partner_top == worst and _top_mistake(confusion, worst) == partner,
    }


def mutual_confusion_answer(confusion: pd.DataFrame, worst: str, partner: str) -> str:
    pair = mutual_confusion(confusion, worst, partner)
    numbers = f"{pct(pair['worst_as_partner'])} of {worst} images are called {partner}"
    if pair["both_ways"]:
        return (
            f"The confusion runs both ways: {numbers}, and {pct(pair['partner_as_worst'])} of {partner} images are "
            f"called {worst}, {partner}'s most frequent mistake too. The network has not learnt what separates the "
            "two classes, rather than failing on one of them alone."
        )
    return (
        f"The confusion runs one way: {numbers}, but only {pct(pair['partner_as_worst'])} of {partner} images are "
        f"called {worst}; {partner} is most often taken for {pair['partner_top_mistake']}."
    )


def confidence_answer(predictions: pd.DataFrame, worst: str, partner: str) -> str:
    """How sure the network was when it took the worst class for its partner, against when it got it right."""
    of_worst = predictions[predictions["true"] == worst]
    mistakes = of_worst[of_worst["predicted"] == partner]["confidence"]
    right = of_worst[of_worst["predicted"] == worst]["confidence"]
    if mistakes.empty:
        return f"No {worst} image was called {partner}, so there is no confidence to measure."
    median = float(mistakes.median())
    manner = (
        "confident mistakes: to the network these images look like its idea of " + partner
        if median > CONFIDENT_MEDIAN
        else "hesitant mistakes: most of these images sit near the boundary between the classes"
    )
    right_part = f", against {right.median():.2f} on the {len(right)} it got right" if len(right) else ""
    return (
        f"On the {len(mistakes)} {worst} images it called {partner} the network's median confidence was "
        f"{median:.2f}{right_part}: {manner}."
    )


def pair_over_epochs_answer(by_epoch: pd.DataFrame, worst: str, partner: str, chosen_epoch: int) -> str:
    """How the two classes' validation accuracy moved from the first epoch to the chosen and the last one."""
    last = int(by_epoch["epoch"].max())
    parts = []
    for name in (worst, partner):
        accuracy = by_epoch[by_epoch["class"] == name].set_index("epoch")["accuracy"]
        parts.append(
            f"{name} {pct(accuracy.loc[1])} at epoch 1, {pct(accuracy.loc[chosen_epoch])} at the chosen epoch "
            f"{chosen_epoch}" + (f", {pct(accuracy.loc[last])} at the last ({last})" if last != chosen_epoch else "")
        )
    overall = by_epoch.groupby("epoch")[["correct", "n"]].sum()
    overall_accuracy = overall["correct"] / overall["n"]
    return (
        "Validation accuracy over the epochs: "
        + "; ".join(parts)
        + f" (all classes: {pct(overall_accuracy.loc[1])} to {pct(overall_accuracy.loc[chosen_epoch])})."
    )


def training_state(history: pd.DataFrame) -> dict:
    """Whether validation loss was still falling when training stopped."""
    losses = history["val_loss"].to_numpy(dtype=float)
    best_epoch = int(history["epoch"].iloc[int(np.nanargmin(losses))])
    return {
        "epochs": len(losses),
        "best_epoch": best_epoch,
        "still_falling": len(losses) > 1 and losses[-1] < losses[-2],
        "last_change": float(losses[-1] - losses[-2]) if len(losses) > 1 else 0.0,
        "best_loss": float(np.nanmin(losses)),
        "last_loss": float(losses[-1]),
    }


def undertraining_answer(history: pd.DataFrame) -> str:
    state = training_state(history)
    if state["still_falling"]:
        return (
            f"Undertrained: validation loss was still falling at the last epoch ({state['last_change']:+.4f} from "
            f"epoch {state['epochs'] - 1} to {state['epochs']}), so the network stopped before it had learnt all it "
            "could; more epochs would likely lift every class, the hard pair included."
        )
    return (
        f"Not undertrained: validation loss bottomed out at epoch {state['best_epoch']} ({state['best_loss']:.4f}) "
        f"and ended at {state['last_loss']:.4f}, so more epochs of the same training would overfit rather than "
        "help; the remaining errors need a better model or more data, not more time."
    )


# ------------------------------------------------------------------------------------------ 2.0 h


def faster_fit_answer(histories: dict[str, pd.DataFrame], baseline: str, other: str) -> str:
    """2.0 h, why: how far each variant got on the training data in the same number of epochs, and, where the
    registry names one, the mechanism that would explain a faster fit."""
    first = {name: float(histories[name]["train_loss"].iloc[0]) for name in (baseline, other)}
    last = {name: float(histories[name]["train_loss"].iloc[-1]) for name in (baseline, other)}
    epochs = len(histories[baseline])
    faster = last[other] < last[baseline]
    return (
        f"Why: after {epochs} epochs the training loss of {other} is {last[other]:.4f} against {last[baseline]:.4f} "
        f"for {baseline} (epoch 1: {first[other]:.4f} against {first[baseline]:.4f}). "
        + _fit_sentence(other, faster, variants.variant(other).mechanism)
    )


def _fit_sentence(name: str, faster: bool, mechanism: variants.Mechanism | None) -> str:
    if mechanism is None:
        return f"{name} fits the training data faster." if faster else f"{name} does not fit the training data faster."
    if faster:
        return (
            f"{name} fits the training data faster: {mechanism.part} {mechanism.effect}, so in the same budget of "
            "epochs it gets further."
        )
    return (
        f"{name} does not fit the training data faster here, so {mechanism.part} did not speed up learning in this "
        "budget of epochs."
    )


# ------------------------------------------------------------------------------------------ problems and surprises


def last_epoch_chosen(variant: str, best: dict) -> str | None:
    if best["epoch"] == best["epochs"]:
        return (
            f"{variant}: the chosen epoch is the last ({best['epoch']} of {best['epochs']}), so validation loss was "
            "still at its lowest when training stopped: training had not converged, and a longer run may do better."
        )
    return None


def grid_edge_settings(results: pd.DataFrame, best: dict) -> list[str]:
    """A norm's best setting on the edge of the grid, with PSNR still rising towards that edge: the optimum may lie
    outside, so the grid should grow there. An edge the PSNR is flat towards says nothing of what lies beyond."""
    notes = []
    for norm, row in best.items():
        of_norm = results[results["norm"] == norm]
        for name, other in (("lr", "alpha"), ("alpha", "lr")):
            values = sorted(set(of_norm[name]))
            if len(values) < 2:
                continue
            smallest, largest = np.isclose(row[name], values[0]), np.isclose(row[name], values[-1])
            if not (smallest or largest):
                continue
            inward = values[1] if smallest else values[-2]
            neighbour = of_norm[np.isclose(of_norm[name], inward) & np.isclose(of_norm[other], row[other])]
            rise = row["psnr"] - float(neighbour["psnr"].iloc[0])
            if rise < NO_CHANGE_DB:
                continue
            notes.append(
                f"{norm}'s best setting has {name} {row[name]}, the grid's {'smallest' if smallest else 'largest'}, "
                f"{rise:.2f} dB above {name} {inward}: the best {name} may lie beyond it, so extend the grid on that "
                "side."
            )
    return notes


def lr_insensitive_norms(results: pd.DataFrame, best: dict) -> list[str]:
    """A norm whose PSNR hardly moves with lr at its best alpha: the normalised step makes lr only a step length."""
    notes = []
    for norm, row in best.items():
        at_alpha = results[(results["norm"] == norm) & np.isclose(results["alpha"], row["alpha"])]
        if len(at_alpha) < 2:
            continue
        spread = float(at_alpha["psnr"].max() - at_alpha["psnr"].min())
        if spread < NO_CHANGE_DB:
            notes.append(
                f"{norm}'s PSNR at alpha {row['alpha']} changes by only {spread:.3f} dB over lr "
                f"{at_alpha['lr'].min()}–{at_alpha['lr'].max()}: the step is normalised, so lr sets only its "
                "length, and after enough iterations every lr here ends up near the same minimum."
            )
    return notes


def metric_disagreements(results: pd.DataFrame, best: dict) -> list[str]:
    """Settings where the best by PSNR is not the best by SSIM."""
    notes = []
    for norm, row in best.items():
        rows = results[results["norm"] == norm]
        by_ssim = rows.iloc[int(rows["ssim"].to_numpy(dtype=float).argmax())]
        if not (np.isclose(by_ssim["lr"], row["lr"]) and np.isclose(by_ssim["alpha"], row["alpha"])):
            notes.append(
                f"{norm}: PSNR and SSIM disagree on the best setting: PSNR picks lr {row['lr']}, alpha "
                f"{row['alpha']} (SSIM {row['ssim']:.3f}); SSIM picks lr {by_ssim['lr']}, alpha {by_ssim['alpha']} "
                f"(SSIM {by_ssim['ssim']:.3f}, PSNR {by_ssim['psnr']:.2f} dB against {row['psnr']:.2f})."
            )
    return notes


def norm_disagreement(best: dict, reference: str, other: str) -> str | None:
    """PSNR and SSIM naming different norms of ``reference`` and ``other`` as the better one."""
    by_psnr, by_ssim = (_better_by(best, reference, other, measure) for measure in ("psnr", "ssim"))
    if by_psnr == by_ssim:
        return None
    psnrs, ssims = ([best[norm][measure] for norm in (reference, other)] for measure in ("psnr", "ssim"))
    return (
        f"PSNR and SSIM disagree on the better norm: {by_psnr} by PSNR ({max(psnrs):.2f} against {min(psnrs):.2f} "
        f"dB), {by_ssim} by SSIM ({max(ssims):.3f} against {min(ssims):.3f}): which norm is better depends on what "
        "one asks of the image."
    )


def both_ways_pairs(variant: str, confusion: pd.DataFrame, worst: str, partner: str) -> str | None:
    pair = mutual_confusion(confusion, worst, partner)
    if pair["both_ways"]:
        return (
            f"{variant}: {worst} and {partner} are each other's most frequent mistake ({pct(pair['worst_as_partner'])}"
            f" and {pct(pair['partner_as_worst'])}): a pair the network cannot tell apart, not one weak class."
        )
    return None


def method_notes(implementation: str, configured_norms) -> list[str | Paragraph]:
    """The fixed notes about how the pipeline reads the handout (method, not results): each configured norm's
    reading, where its table entry has one, and the batched augmentation where training uses it."""
    notes: list[str | Paragraph] = [norms.norm(name).note for name in configured_norms if norms.norm(name).note]
    if implementation == "fast":
        notes.append(
            Paragraph(
                "Training augments whole batches on tensors (",
                Code("batched_augment"),
                "), with the same distributions as the per-image torchvision transforms the handout names; the "
                "random draws differ, so its numbers differ from a per-image run by training noise. ",
                Code("implementation: reference"),
                " runs the per-image path.",
            )
        )
    return notes
