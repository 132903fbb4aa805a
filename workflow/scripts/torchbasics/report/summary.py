"""The run's summary page: each question of the assignment answered with this run's numbers and figures.

The page is built as a list of sections (headings, paragraphs, tables, figures) from the stages' CSV/JSON files
only, then rendered twice: Markdown (``summary.md``, figures linked) and one self-contained HTML page
(``summary.html``, figures embedded), so that it can be mailed or handed in as a single file.
"""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from torchbasics.autograd import autograd_files
from torchbasics.classifier import variants
from torchbasics.classifier.compare import read_mcnemar, read_variants
from torchbasics.classifier.evaluation_files import (
    read_confusion,
    read_metrics,
    read_per_class,
    read_predictions,
)
from torchbasics.classifier.history import read_best, read_history, read_val_per_class
from torchbasics.classifier.replicates import read_paired_test, worst_class_counts
from torchbasics.core import paths, settings
from torchbasics.core.errors import InputError
from torchbasics.core.io import atomic_path
from torchbasics.denoise import denoise_files, norms
from torchbasics.denoise.denoise_files import read_results
from torchbasics.denoise.regions import read_regions
from torchbasics.report import answers
from torchbasics.report.answers import pct
from torchbasics.report.markup import (
    Code,
    Paragraph,
    Strong,
    html_block,
    markdown_block,
    markdown_fence,
    markdown_link_target,
    markdown_text,
)
from torchbasics.report.provenance import read_run_info

# ------------------------------------------------------------------------------------------ page model


@dataclass
class Table:
    header: list[str]
    rows: list[list]  # cells are rendered with str()


@dataclass
class Figure:
    path: str  # relative to the working directory
    caption: str


@dataclass
class CodeBlock:
    text: str


@dataclass
class BulletList:
    items: list  # str or Paragraph


@dataclass
class Section:
    title: str
    # Paragraphs (a str, or a markup.Paragraph where it has bold or code), Table, Figure, CodeBlock or BulletList.
    # Text from data (class names, sources, hosts) goes in as it is: the renderers escape it, once each.
    blocks: list = field(default_factory=list)


# ------------------------------------------------------------------------------------- the run it shows


@dataclass(frozen=True)
class PageRun:
    """What the page shows, as rule summary's params give it. The page reads every file where its rule writes it
    (``paths``, under ``root``), and only files the current config declares: a section never comes from
    whatever an earlier run left in results/."""

    variants: list[str]  # in the config's order
    baseline: str  # every other configured variant is compared with it
    norms: list[str]  # the denoising norms, in the config's order
    shown_seed: int  # the seed whose runs the page shows in full, as the workflow chose it
    clean_reference: bool = True  # without a clean original: no PSNR to map, no regions to judge
    implementation: str = "fast"  # the training's code path, for the page's note on the method
    root: Path = Path(".")

    @property
    def compared(self) -> list[str]:
        return variants.compared_with(self.baseline, self.variants)

    def file(self, pattern: str, **wildcards) -> Path:
        """The file of ``pattern`` for this page: of the seed it shows in full and against its baseline, unless
        ``wildcards`` say otherwise."""
        return self.root / paths.fill(pattern, **{"seed": self.shown_seed, "baseline": self.baseline, **wildcards})


# ---------------------------------------------------------------------------------------- the sections


def autograd_sections(run: PageRun) -> list[Section]:
    summary = autograd_files.read_summary(run.file(paths.AUTOGRAD_SUMMARY))
    return [
        Section(
            "1.1 b — the gradient at pi/4 by backward()",
            [
                Paragraph(
                    f"With {summary['n_terms']} terms of the Taylor series ({summary['dtype']}, {summary['device']}), ",
                    Code("y.backward()"),
                    f" gives dz/dx = {summary['gradient_at_quarter_pi']:.9f} at x = pi/4; cos(pi/4) = "
                    f"{summary['cos_quarter_pi']:.9f}, an error of {summary['error_at_quarter_pi']:.2e}.",
                ),
                answers.quarter_pi_verdict(summary),
            ],
        ),
        Section(
            "1.1 c, d — gradients at 100 points of [-pi, pi]",
            [
                Paragraph(
                    f"{summary['n_points']} points drawn uniformly from [-pi, pi] with the run's seed, ",
                    Code("y.sum().backward()"),
                    f": the largest error against cos(x) is {summary['max_abs_error']:.2e}. The figure plots dz/dx "
                    "over cos(x).",
                ),
                answers.sum_backward_answer(summary),
                Figure(
                    run.file(paths.AUTOGRAD_GRADIENT_FIGURE.png),
                    "1.1 d: dz/dx by autograd (points) over cos(x) (line).",
                ),
                Figure(
                    run.file(paths.AUTOGRAD_CONVERGENCE_FIGURE.png),
                    "1.1 (not asked for): the largest error of the value and the gradient against the number of terms.",
                ),
            ],
        ),
    ]


def denoise_sections(run: PageRun) -> list[Section]:
    """1.2 b for the handout's reference norm and one "better or worse" section for each other configured norm,
    against the reference where both ran; the table and PSNRs whatever the norms."""
    summary = denoise_files.read_best(run.file(paths.DENOISE_BEST))
    rows = read_results(run.file(paths.DENOISE_TABLE)).to_dict("records")
    noisy = summary.get("noisy") or {}
    judged = noisy.get("psnr") is not None  # PSNR needs the clean original; without it nothing is "best"
    table = Table(
        ["norm", "lr", "alpha", "iterations", "PSNR (dB)", "SSIM", "final loss"],
        [
            [
                row["norm"],
                row["lr"],
                row["alpha"],
                row["iterations"],
                _num(row["psnr"], 2),
                _num(row["ssim"], 3),
                _num(row["final_loss"], 1),
            ]
            for row in rows
        ],
    )
    chosen = summary["best"]
    reference, configured = norms.REFERENCE, list(chosen)
    choosing = Section(
        f"{norms.heading([reference])} — choosing the learning rate and alpha", [_denoise_intro(noisy, judged)]
    )
    if reference in chosen:
        choosing.blocks.append(_chosen_setting(reference, chosen[reference], noisy, judged))
    choosing.blocks += [f"Criterion: {summary['criterion']}.", table]
    if run.clean_reference:
        choosing.blocks.append(
            Figure(
                run.file(paths.DENOISE_PSNR_HEATMAP.png),
                f"{norms.heading(configured)}: PSNR of every setting, rows lr, columns alpha, one panel per norm; the "
                "best outlined.",
            )
        )
    if reference in run.norms:
        choosing.blocks.append(_contact_sheet(run, reference, judged))
    sections = [choosing]
    for other in configured:
        if other != reference:
            sections.append(_other_norm_section(run, chosen, other, noisy, judged))
    sections[-1].blocks.append(
        Figure(run.file(paths.DENOISE_COMPARISON_FIGURE.png), _comparison_caption(configured, judged))
    )
    return sections


def _other_norm_section(run: PageRun, chosen: dict, norm: str, noisy: dict, judged: bool) -> Section:
    """A norm other than the reference: its best setting, how it reads the handout, and how it compares."""
    section = Section(
        f"{norms.heading([norm])} — the {norm} variant: better or worse, and why",
        [_chosen_setting(norm, chosen[norm], noisy, judged)],
    )
    note = norms.norm(norm).note
    if note:
        section.blocks.append(note)
    if norms.REFERENCE in chosen and judged:
        section.blocks += _norm_comparison(run, chosen, norms.REFERENCE, norm)
    if norm in run.norms:
        section.blocks.append(_contact_sheet(run, norm, judged))
    return section


def _norm_comparison(run: PageRun, chosen: dict, reference: str, other: str) -> list:
    """1.2 c: ``other`` against the ``reference`` norm at their best settings, by region, and side by side at one
    setting."""
    results = read_results(run.file(paths.DENOISE_TABLE))
    results = results[results["norm"].isin([reference, other])]
    regions = read_regions(run.file(paths.DENOISE_REGIONS)) if run.clean_reference else None
    blocks = [answers.norm_verdict(chosen, reference, other)]
    if regions is not None:
        blocks.append(answers.regions_answer(chosen, regions, reference, other))
    setting = answers.same_setting(results)
    rows = answers.same_setting_rows(results, regions, setting)
    header = ["norm", "PSNR (dB)", "SSIM"] + (["edge PSNR (dB)", "flat PSNR (dB)"] if regions is not None else [])
    blocks.append(answers.same_setting_answer(rows, setting, reference, other))
    blocks.append(
        Table(
            header,
            [
                [row["norm"], _num(row["psnr"], 2), _num(row["ssim"], 3)]
                + ([_num(row["edges"], 2), _num(row["flat"], 2)] if regions is not None else [])
                for row in rows
            ],
        )
    )
    return blocks


def _denoise_intro(noisy: dict, judged: bool) -> str:
    if judged:
        return (
            f"Every setting is judged by its PSNR against the clean original; the noisy input itself has PSNR "
            f"{noisy['psnr']:.2f} dB and SSIM {noisy['ssim']:.3f}."
        )
    return (
        "No clean original was configured, so no setting can be judged (PSNR and SSIM need one): the setting "
        "shown for each norm is the grid's centre, and the table gives each setting's final loss."
    )


def _chosen_setting(norm: str, row: dict, noisy: dict, judged: bool) -> str:
    setting = f"lr = {row['lr']}, alpha = {row['alpha']} ({row['iterations']} iterations)"
    if not judged:
        return f"{norm}: the grid's centre setting, {setting}, ends at a loss of {row['final_loss']:.4g}."
    return (
        f"The best {norm} setting is {setting}: PSNR {row['psnr']:.2f} dB and SSIM {row['ssim']:.3f} against "
        f"the clean image, up from {noisy['psnr']:.2f} dB and {noisy['ssim']:.3f} for the noisy input "
        f"(+{row['psnr'] - noisy['psnr']:.2f} dB)."
    )


def _contact_sheet(run: PageRun, norm: str, judged: bool) -> Figure:
    return Figure(
        run.file(paths.DENOISE_CONTACT_SHEET.png, norm=norm),
        f"{norms.heading([norm])}, {norm}: rows lr, columns alpha, titled by {'PSNR' if judged else 'final loss'}.",
    )


def _comparison_caption(configured: list[str], judged: bool) -> str:
    questions = norms.heading(configured)
    if judged:
        return f"{questions}: the noisy input, the best setting of each norm and the clean original."
    return f"{questions}: the noisy input and the grid's centre setting of each norm (no clean original to judge by)."


def classifier_sections(run: PageRun) -> list[Section]:
    sections = [_training_section(run)]
    for variant in run.variants:
        sections.extend(_evaluation_sections(run, variant))
    for variant in run.compared:
        sections.append(_comparison_section(run, variant))
    return sections


def _training_section(run: PageRun) -> Section:
    section = Section("2.0 f — training, and the epoch chosen by validation loss")
    for variant in run.variants:
        best = read_best(run.file(paths.TRAIN_BEST, variant=variant))
        section.blocks.append(
            Paragraph(
                Strong(variant),
                f": of {best['epochs']} epochs, epoch {best['epoch']} has the lowest validation loss "
                f"({best['val_loss']:.4f}, validation accuracy {pct(best['val_accuracy'])}), so its checkpoint is "
                f"the one evaluated ({best['rule']}).",
            )
        )
        section.blocks.append(
            Figure(
                run.file(paths.TRAIN_LOSS_FIGURE.png, variant=variant),
                f"2.0 f, {variant}: training and validation loss per epoch, chosen epoch marked.",
            )
        )
    section.blocks.append(
        Figure(
            run.file(paths.VAL_LOSS_FIGURE.png),
            "2.0 f: the validation loss of every variant per epoch, each variant's chosen epoch marked.",
        )
    )
    return section


def _evaluation_sections(run: PageRun, variant: str) -> list[Section]:
    def of(pattern: str) -> Path:
        return run.file(pattern, variant=variant)

    metrics = read_metrics(of(paths.EVAL_METRICS))
    per_class = read_per_class(of(paths.EVAL_PER_CLASS)).to_dict("records")
    class_table = Table(
        ["class", "images", "accuracy", "95% interval"],
        [
            [row["class"], row["n"], pct(row["accuracy"]), f"{pct(row['ci95_low'])} – {pct(row['ci95_high'])}"]
            for row in per_class
        ],
    )
    confusion = read_confusion(of(paths.EVAL_CONFUSION))
    worst, partner = metrics["worst_class"], metrics["most_confused_with"]
    confusion_table = Table(
        ["true \\ predicted", *confusion.columns],
        [[true, *[f"{fraction:.2f}" for fraction in row]] for true, row in zip(confusion.index, confusion.to_numpy())],
    )
    return [
        Section(
            f"2.0 g i, ii — test accuracy ({variant})",
            [
                f"Epoch {metrics['chosen_epoch']} on the {metrics['n_test']} test images ({metrics['device']}): "
                f"accuracy "
                f"{pct(metrics['accuracy'])} (95% interval {pct(metrics['ci95_low'])} – {pct(metrics['ci95_high'])}), "
                f"test loss {metrics['test_loss']:.4f}.",
                class_table,
            ],
        ),
        Section(
            f"2.0 g iii — confusion matrix ({variant})",
            [
                "Row i, column j: the fraction of test images of class i predicted as class j.",
                confusion_table,
                Figure(of(paths.EVAL_CONFUSION_FIGURE.png), f"2.0 g iii, {variant}: the labelled confusion matrix."),
            ],
        ),
        Section(
            f"2.0 g iv — the worst class and its confusion ({variant})",
            [
                Paragraph(
                    "The worst class is ",
                    Strong(worst),
                    f" (accuracy {pct(metrics['worst_class_accuracy'])}); it is most often taken for ",
                    Strong(partner),
                    f" ({pct(metrics['confused_fraction'])} of its test images).",
                ),
                "What causes the poor performance, from this run's evidence:",
                answers.mutual_confusion_answer(confusion, worst, partner),
                answers.confidence_answer(read_predictions(of(paths.EVAL_PREDICTIONS)), worst, partner),
                answers.pair_over_epochs_answer(
                    read_val_per_class(of(paths.TRAIN_VAL_PER_CLASS)),
                    worst,
                    partner,
                    metrics["chosen_epoch"],
                ),
                answers.undertraining_answer(read_history(of(paths.TRAIN_HISTORY))),
                Figure(
                    of(paths.EVAL_CONFUSED_FIGURE.png),
                    f"2.0 g iv, {variant}: test images of {worst} predicted as {partner}, most confident first.",
                ),
            ],
        ),
    ]


def _comparison_section(run: PageRun, compared: str) -> Section:
    test = read_mcnemar(run.file(paths.COMPARE_MCNEMAR, variant=compared))
    rows = read_variants(run.file(paths.COMPARE_TABLE, variant=compared)).to_dict("records")
    table = Table(
        ["variant", "test accuracy", "chosen epoch", "validation loss"],
        [[row["variant"], pct(row["test_accuracy"]), row["chosen_epoch"], _num(row["val_loss"], 4)] for row in rows],
    )
    baseline, variant = test["baseline"], test["variant"]
    only_baseline, only_variant = test[f"only_{baseline}_correct"], test[f"only_{variant}_correct"]
    return Section(
        f"2.0 h — the {variant} variant",
        [
            table,
            f"{test['conclusion']} (only {baseline} right: {only_baseline}, only {variant} right: {only_variant}).",
            "McNemar's test accounts for the sampling of the test images, given these two trained networks; it does "
            "not account for the randomness of training (another seed trains other networks), which only replicates "
            "over seeds measure (the section over the seeds below).",
            answers.faster_fit_answer(
                {name: read_history(run.file(paths.TRAIN_HISTORY, variant=name)) for name in (baseline, variant)},
                baseline,
                variant,
            ),
            Figure(
                run.file(paths.COMPARE_FIGURE.png, variant=compared), "2.0 h: per-class test accuracy of both variants."
            ),
        ],
    )


def _seeds_command(seeds: list[int]) -> str:
    """The option that runs these seeds, in this order (the first is the one the page shows in full)."""
    return f"--config 'seeds=[{', '.join(map(str, seeds))}]'"


def replicates_section(run: PageRun) -> Section:
    """2.0 g, h over the seeds: what holds across training replicates, and what one run cannot tell."""
    shown_seed = run.shown_seed
    per_seed = pd.read_csv(run.file(paths.REPLICATES_PER_SEED))
    summary = pd.read_csv(run.file(paths.REPLICATES_VARIANTS))
    seeds = sorted(per_seed["seed"].unique().tolist())
    if shown_seed not in seeds:
        raise InputError(
            f"{run.file(paths.REPLICATES_PER_SEED)}: no run of seed {shown_seed}, the seed the page shows in full"
        )
    section = Section(f"2.0 g, h over the seeds — {len(seeds)} training replicate{'s' * (len(seeds) > 1)}")
    if len(seeds) == 1:
        section.blocks.append(
            Paragraph(
                f"Each network was trained once (seed {seeds[0]}). A second seed changes the initial weights, the "
                "batch order and the augmentation, and with them the test accuracy, so a difference between the "
                "networks or a worst class seen in one run is not yet a finding: replicates are needed for such a "
                "claim. Start with three: ",
                Code(_seeds_command(seeds + _next_seeds(seeds, 2))),
                " (or ",
                Code("seeds:"),
                " in config.yaml); this section then gives each network's mean with its 95% interval over the seeds "
                "and the paired difference.",
            )
        )
        return section
    section.blocks.append(
        f"Seeds {', '.join(map(str, seeds))}; the sections above show seed {shown_seed} in full. Each interval below "
        "is a 95% Student-t interval of the mean over the seeds: it accounts for the randomness of training "
        "(initial weights, batch order, augmentation), not for which images happen to be in the test split."
    )
    section.blocks.append(
        Table(
            ["variant", "seeds", "mean test accuracy", "sd", "95% interval", "worst class (seeds)"],
            [
                [
                    row["variant"],
                    row["n_seeds"],
                    pct(row["test_accuracy_mean"]),
                    f"{100 * row['test_accuracy_sd']:.1f} points",
                    f"{pct(row['ci95_low'])} – {pct(row['ci95_high'])}" + (" (clipped)" if row["ci95_clipped"] else ""),
                    row["worst_class_counts"],
                ]
                for row in summary.to_dict("records")
            ],
        )
    )
    if summary["ci95_clipped"].any():
        section.blocks.append(
            "An interval marked (clipped) reached past 0% or 100%, which a mean accuracy cannot, and is clipped "
            "there: the seeds spread too widely for so few of them to place the mean more closely; more seeds "
            "narrow the interval."
        )
    section.blocks.append(_worst_class_statement(per_seed))
    configured_seeds = per_seed["seed"].unique().tolist()  # in the config's order
    for variant in run.compared:
        test = read_paired_test(run.file(paths.REPLICATES_PAIRED_TEST, variant=variant))
        paired = pd.read_csv(run.file(paths.REPLICATES_PAIRED, variant=variant))
        section.blocks.append(_paired_statement(test, paired, configured_seeds))
    section.blocks.append(
        Figure(
            run.file(paths.REPLICATES_ACCURACY_FIGURE.png), "2.0 g, h: test accuracy of every seed, mean and interval."
        )
    )
    section.blocks.append(
        Figure(
            run.file(paths.REPLICATES_PER_CLASS_FIGURE.png),
            "2.0 g ii: per-class test accuracy, mean and 95% interval over the seeds.",
        )
    )
    return section


def _worst_class_statement(per_seed: pd.DataFrame) -> Paragraph:
    """Per variant, the class worst in the most seeds, or every class tied for that."""
    pieces = ["2.0 g iv over the seeds: "]
    for index, (variant, runs) in enumerate(per_seed.groupby("variant", sort=False)):
        counts = worst_class_counts(runs)
        times = int(counts.iloc[0])
        names = counts.index[counts == times].tolist()
        pieces.append("; " if index else "")
        for position, name in enumerate(names):
            pieces += [_list_joint(position, len(names)), Strong(name)]
        verb = "is the worst class" if len(names) == 1 else "are each the worst class"
        pieces.append(f" {verb} in {times} of {len(runs)} seeds of {variant}")
    return Paragraph(*pieces, ".")


def _list_joint(position: int, length: int) -> str:
    """What goes before item ``position`` of a list of ``length`` in a sentence: "a", "a and b", "a, b and c"."""
    if position == 0:
        return ""
    return " and " if position == length - 1 else ", "


def _paired_statement(test: dict, paired: pd.DataFrame, seeds: list[int]) -> Paragraph:
    baseline, other, n = test["baseline"], test["other"], test["n_seeds"]
    points = 100 * test["difference_mean"]
    statement = (
        f"2.0 h over the seeds: {other} minus {baseline}, trained with the same seed, is {points:+.1f} points on "
        f"average over {n} seeds ({other} better in {test['other_better_in']} of {n}; per seed: "
        + ", ".join(f"{100 * difference:+.1f}" for difference in paired["difference"])
        + f"), 95% interval {100 * test['ci95_low']:+.1f} to {100 * test['ci95_high']:+.1f} points"
        + (" (clipped at ±100 points, as far as a difference of accuracies can go)" if test["ci95_clipped"] else "")
        + f", paired t-test p = {test['t_test_p_value']:.2g}. "
    )
    if test["exceeds_seed_spread"]:
        return Paragraph(
            statement,
            f"The interval excludes zero: {other}'s {'advantage' if points > 0 else 'deficit'} is larger than the "
            "seed-to-seed spread of training.",
        )
    return Paragraph(
        statement,
        "The interval includes zero: the difference is not larger than the seed-to-seed spread of training, so these "
        "seeds do not show that one network is better. ",
        *_seeds_needed_statement(test, seeds),
    )


# Past this many seeds a --config list is unwieldy; the page points to config.yaml instead.
LONGEST_SEEDS_COMMAND = 20


def _seeds_needed_statement(test: dict, seeds: list[int]) -> tuple[str | Code, ...]:
    """How many seeds would settle an open comparison, the command that runs them (``seeds``, the configured ones,
    then the next ones), and why that count is an estimate: pieces of a paragraph."""
    needed, inputs, measured = test["seeds_needed_80"], test["seeds_needed_80_inputs"], test["n_seeds"]
    if needed is None:
        return (f"No number of seeds can be planned from these: {test['seeds_needed_80_reason']}.",)
    more = _next_seeds(seeds, needed - measured)
    run = (
        ("run ", Code(_seeds_command(seeds + more)))
        if needed <= LONGEST_SEEDS_COMMAND
        else (f"list {needed} seeds under ", Code("seeds:"), " in config.yaml")
    )
    return (
        f"If the true difference were the observed {100 * inputs['difference_mean']:+.1f} points with the observed "
        f"spread (sd {100 * inputs['difference_sd']:.1f} points), a paired t-test at the {100 * inputs['alpha']:.0f}% "
        f"level would show it with {100 * inputs['power']:.0f}% probability from {needed} seeds on: ",
        *run,
        f" (these seeds and {len(more)} more). That number rests on the spread of only {measured} seeds, so it is "
        "itself uncertain: more seeds may show a smaller or larger spread, and with it a different count.",
    )


def _next_seeds(seeds: list[int], count: int) -> list[int]:
    """``count`` seeds after the largest of ``seeds`` that are not among them (wrapping past the largest seed the
    schema takes back to 0, as ``settings.seeds_from`` does)."""
    candidates = settings.seeds_from(max(seeds) + 1, count + len(seeds))
    return [seed for seed in candidates if seed not in seeds][: max(count, 0)]


def problems_section(run: PageRun) -> Section:
    """Problems and surprises: the conditions this run's files show, then the fixed notes on the method."""
    found = []
    denoise_summary = denoise_files.read_best(run.file(paths.DENOISE_BEST))
    if (denoise_summary.get("noisy") or {}).get("psnr") is not None:  # judged only against a clean original
        results, chosen = read_results(run.file(paths.DENOISE_TABLE)), denoise_summary["best"]
        found += answers.grid_edge_settings(results, chosen)
        found += answers.lr_insensitive_norms(results, chosen)
        found += answers.metric_disagreements(results, chosen)
        reference = norms.REFERENCE
        if reference in chosen:
            found += [answers.norm_disagreement(chosen, reference, other) for other in chosen if other != reference]
    for variant in run.variants:
        found.append(answers.last_epoch_chosen(variant, read_best(run.file(paths.TRAIN_BEST, variant=variant))))
        metrics = read_metrics(run.file(paths.EVAL_METRICS, variant=variant))
        found.append(
            answers.both_ways_pairs(
                variant,
                read_confusion(run.file(paths.EVAL_CONFUSION, variant=variant)),
                metrics["worst_class"],
                metrics["most_confused_with"],
            )
        )
    found = [note for note in found if note]
    checked = (
        "Checked in this run's files: a best denoising setting on the edge of its grid, a norm whose PSNR does not "
        "depend on lr, PSNR and SSIM choosing different settings or norms, a chosen epoch that is the last one "
        "(training not converged), a worst class confused both ways with its partner."
    )
    return Section(
        "Problems and surprises",
        [
            checked,
            BulletList(found) if found else "None of these showed up in this run.",
            "About the method (fixed notes on how the pipeline reads the handout):",
            BulletList(answers.method_notes(run.implementation, list(denoise_summary["best"]))),
        ],
    )


def provenance_section(run_info: dict) -> Section:
    versions = Table(["package", "version"], [[name, version] for name, version in run_info["versions"].items()])
    inputs = Table(
        ["input", "sha256", "source"],
        [[name, entry["sha256"], entry.get("source") or ""] for name, entry in run_info["inputs"].items()],
    )
    hardware = run_info["hardware"]
    units = ", ".join(hardware["cpu_bfloat16_units"]) or "none"
    training = Table(
        ["network", "seed", "trained on", "precision", "torch threads"],
        [
            [row["variant"], row.get("seed", ""), row["device"], row["precision"], row["threads"]]
            for row in run_info["training"]
        ],
    )
    return Section(
        "How this run was made",
        [
            f"Seed {run_info['config'].get('seed')}; devices used: "
            f"{', '.join(run_info['devices']) or 'none recorded'}; "
            f"host {run_info['host']} ({hardware['cpu']}, {hardware['machine']}; bfloat16 units: {units}); written "
            f"{run_info['created']}.",
            training,
            "The same config on the same hardware, device, precision and torch thread count gives the same numbers "
            "bit for bit; another thread count or precision changes the rounding of sums, and with it the digits. "
            "On a GPU that holds for the same GPU model, driver, CUDA, cuDNN and torch versions (run_info.json "
            "records them): the jobs use deterministic kernels only and float32 without TF32. Not guaranteed: the "
            "same digits on another GPU model or software version, or on a GPU and on the CPU, which round in "
            "another order.",
            versions,
            inputs,
            "The run's configuration (devices, download settings and checksums left out: they change no result, "
            "and the devices used and each input's sha256 are above):",
            CodeBlock(run_info["config_yaml"]),
        ],
    )


def _num(value: float | None, digits: int) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def build_sections(run: PageRun) -> list[Section]:
    return [
        *autograd_sections(run),
        *denoise_sections(run),
        *classifier_sections(run),
        replicates_section(run),
        problems_section(run),
        provenance_section(read_run_info(run.file(paths.RUN_INFO))),
    ]


# ---------------------------------------------------------------------------------------------- render

TITLE = "torchbasics — results of this run"


def anchor(title: str) -> str:
    """A section's link target: its title in lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def to_markdown(sections: list[Section], page_folder: Path) -> str:
    lines = [f"# {TITLE}", "", "Contents:", ""]
    lines += [f"- [{markdown_text(section.title)}](#{anchor(section.title)})" for section in sections]
    lines.append("")
    for section in sections:
        lines += [f'<a id="{anchor(section.title)}"></a>', "", f"## {markdown_text(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append(_markdown_row(block.header))
                lines.append("|" + " --- |" * len(block.header))
                lines += [_markdown_row(row) for row in block.rows]
            elif isinstance(block, Figure):
                caption = markdown_text(block.caption)
                lines.append(f"![{caption}]({markdown_link_target(os.path.relpath(block.path, page_folder))})")
                lines.append(f"*{caption}*")
            elif isinstance(block, CodeBlock):
                fence = markdown_fence(block.text)
                lines += [f"{fence}yaml", block.text.rstrip(), fence]
            elif isinstance(block, BulletList):
                lines += [f"- {markdown_block(item)}" for item in block.items]
            else:
                lines.append(markdown_block(block))
            lines.append("")
    return "\n".join(lines)


def _markdown_row(cells: list) -> str:
    return "| " + " | ".join(markdown_text(str(cell)) for cell in cells) + " |"


def to_html(sections: list[Section]) -> str:
    body = [f"<h1>{html.escape(TITLE)}</h1>", "<nav><p>Contents:</p><ul>"]
    body += [f'<li><a href="#{anchor(section.title)}">{html.escape(section.title)}</a></li>' for section in sections]
    body.append("</ul></nav>")
    for section in sections:
        body.append(f'<h2 id="{anchor(section.title)}">{html.escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
                rows = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
                    for row in block.rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(block, Figure):
                data = base64.b64encode(Path(block.path).read_bytes()).decode()
                body.append(
                    f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
                )
            elif isinstance(block, CodeBlock):
                body.append(f"<pre>{html.escape(block.text)}</pre>")
            elif isinstance(block, BulletList):
                body.append("<ul>" + "".join(f"<li>{html_block(item)}</li>" for item in block.items) + "</ul>")
            else:
                body.append(f"<p>{html_block(block)}</p>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(TITLE)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%}figcaption{font-style:italic}"
    "pre{background:#f4f4f4;padding:1em;overflow:auto}"
)


def write_summary(run: PageRun, markdown_out: str | Path, html_out: str | Path) -> None:
    sections = build_sections(run)
    with atomic_path(markdown_out) as tmp:
        tmp.write_text(to_markdown(sections, Path(markdown_out).parent))
    with atomic_path(html_out) as tmp:
        tmp.write_text(to_html(sections))
