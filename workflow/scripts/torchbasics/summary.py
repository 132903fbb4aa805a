"""The run's summary page: each question of the assignment answered with this run's numbers and figures.

The page is built as a list of sections (headings, paragraphs, tables, figures) from the stages' CSV/JSON files
only, then rendered twice: Markdown (``summary.md``, figures linked) and one self-contained HTML page
(``summary.html``, figures embedded), so that it can be mailed or handed in as a single file.
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

from .io import atomic_path, read_json
from .tables import read_csv


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
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (a paragraph), Table, Figure or CodeBlock


def pct(value: float) -> str:
    return f"{100 * float(value):.1f}%"


# ---------------------------------------------------------------------------------------- the sections

def autograd_sections(results: Path) -> list[Section]:
    summary = read_json(results / "autograd" / "summary.json")
    return [
        Section("1.1 b — the gradient at pi/4 by backward()", [
            f"With {summary['n_terms']} terms of the Taylor series ({summary['dtype']}, {summary['device']}), "
            f"`y.backward()` gives dz/dx = {summary['gradient_at_quarter_pi']:.9f} at x = pi/4; cos(pi/4) = "
            f"{summary['cos_quarter_pi']:.9f}, an error of {summary['error_at_quarter_pi']:.2e}.",
        ]),
        Section("1.1 c, d — gradients at 100 points of [-pi, pi]", [
            f"{summary['n_points']} points drawn uniformly from [-pi, pi] with the run's seed, `y.sum().backward()`: "
            f"the largest error against cos(x) is {summary['max_abs_error']:.2e}. The figure plots dz/dx over cos(x).",
            Figure("results/autograd/gradient.png", "dz/dx by autograd (points) over cos(x) (line)."),
            Figure("results/autograd/convergence.png",
                   "Not asked for: the largest error of the value and the gradient against the number of terms."),
        ]),
    ]


def denoise_sections(results: Path) -> list[Section]:
    best = read_json(results / "denoise" / "best.json")
    rows = read_csv(results / "denoise" / "results.csv")
    noisy = best.get("noisy") or {}
    has_quality = noisy.get("psnr") is not None
    table = Table(["norm", "lr", "alpha", "iterations", "PSNR (dB)", "SSIM", "final loss"],
                  [[row["norm"], row["lr"], row["alpha"], row["iterations"], _num(row["psnr"], 2),
                    _num(row["ssim"], 3), _num(row["final_loss"], 1)] for row in rows])
    sections = []
    l1 = best["best"].get("L1")
    if l1:
        text = f"The best L1 setting is lr = {l1['lr']}, alpha = {l1['alpha']} ({l1['iterations']} iterations)"
        if has_quality:
            text += (f": PSNR {l1['psnr']:.2f} dB and SSIM {l1['ssim']:.3f} against the clean image, up from "
                     f"{noisy['psnr']:.2f} dB and {noisy['ssim']:.3f} for the noisy input "
                     f"(+{l1['psnr'] - noisy['psnr']:.2f} dB).")
        else:
            text += " (no clean reference was configured, so settings are ranked without PSNR)."
        sections.append(Section("1.2 b — choosing the learning rate and alpha", [
            text, f"Criterion: {best['criterion']}.", table,
            Figure("results/denoise/figures/contact_sheet_L1.png", "L1: rows lr, columns alpha, titled by PSNR."),
        ]))
    l2 = best["best"].get("L2")
    if l2:
        paragraphs = [f"The best L2 setting is lr = {l2['lr']}, alpha = {l2['alpha']}."]
        if l1 and has_quality:
            difference = l2["psnr"] - l1["psnr"]
            paragraphs.append(f"L2 did {'better' if difference > 0 else 'worse'} than L1 by {abs(difference):.2f} dB "
                              f"of PSNR ({l2['psnr']:.2f} vs {l1['psnr']:.2f} dB; SSIM {l2['ssim']:.3f} vs "
                              f"{l1['ssim']:.3f}). The better norm: {best['better_norm']}.")
        sections.append(Section("1.2 c — the L2 variant", [
            *paragraphs,
            Figure("results/denoise/figures/contact_sheet_L2.png", "L2: rows lr, columns alpha, titled by PSNR."),
            Figure("results/denoise/figures/comparison.png", "Noisy input, best L1, best L2 and the clean original."),
        ]))
    return sections


def classifier_sections(results: Path, variants: list[str]) -> list[Section]:
    sections = [_training_section(results, variants)]
    for variant in variants:
        sections.extend(_evaluation_sections(results, variant))
    if (results / "compare" / "mcnemar.json").exists():
        sections.append(_comparison_section(results))
    return sections


def _training_section(results: Path, variants: list[str]) -> Section:
    section = Section("2.0 f — training, and the epoch chosen by validation loss")
    for variant in variants:
        best = read_json(results / "train" / variant / "best.json")
        section.blocks.append(
            f"**{variant}**: of {best['epochs']} epochs, epoch {best['epoch']} has the lowest validation loss "
            f"({best['val_loss']:.4f}, validation accuracy {pct(best['val_accuracy'])}), so its checkpoint is the "
            f"one evaluated ({best['rule']}).")
        section.blocks.append(Figure(f"results/train/{variant}/loss.png",
                                     f"{variant}: training and validation loss per epoch, chosen epoch marked."))
    return section


def _evaluation_sections(results: Path, variant: str) -> list[Section]:
    folder = results / "eval" / variant
    metrics = read_json(folder / "metrics.json")
    per_class = read_csv(folder / "per_class.csv")
    class_table = Table(["class", "images", "accuracy", "95% interval"],
                        [[row["class"], row["n"], pct(row["accuracy"]),
                          f"{pct(row['ci95_low'])} – {pct(row['ci95_high'])}"] for row in per_class])
    confusion = read_csv(folder / "confusion.csv")
    label_key = next(iter(confusion[0]))
    confusion_table = Table(["true \\ predicted", *[key for key in confusion[0] if key != label_key]],
                            [[row[label_key], *[f"{float(row[key]):.2f}" for key in row if key != label_key]]
                             for row in confusion])
    return [
        Section(f"2.0 g i, ii — test accuracy ({variant})", [
            f"Epoch {metrics['chosen_epoch']} on the {metrics['n_test']} test images ({metrics['device']}): accuracy "
            f"{pct(metrics['accuracy'])} (95% interval {pct(metrics['ci95_low'])} – {pct(metrics['ci95_high'])}), "
            f"test loss {metrics['test_loss']:.4f}.",
            class_table,
        ]),
        Section(f"2.0 g iii — confusion matrix ({variant})", [
            "Row i, column j: the fraction of test images of class i predicted as class j.",
            confusion_table,
            Figure(f"results/eval/{variant}/confusion.png", f"{variant}: the labelled confusion matrix."),
        ]),
        Section(f"2.0 g iv — the worst class and its confusion ({variant})", [
            f"The worst class is **{metrics['worst_class']}** (accuracy {pct(metrics['worst_class_accuracy'])}); it "
            f"is most often taken for **{metrics['most_confused_with']}** ({pct(metrics['confused_fraction'])} of "
            f"its test images).",
            Figure(f"results/eval/{variant}/confused_images.png",
                   f"{variant}: test images of {metrics['worst_class']} predicted as {metrics['most_confused_with']}."),
        ]),
    ]


def _comparison_section(results: Path) -> Section:
    test = read_json(results / "compare" / "mcnemar.json")
    rows = read_csv(results / "compare" / "variants.csv")
    table = Table(["variant", "test accuracy", "chosen epoch", "validation loss"],
                  [[row["variant"], pct(row["test_accuracy"]), row["chosen_epoch"], _num(row["val_loss"], 4)]
                   for row in rows])
    baseline, variant = test["baseline"], test["variant"]
    only_baseline, only_variant = test[f"only_{baseline}_correct"], test[f"only_{variant}_correct"]
    return Section("2.0 h — the residual variant", [
        table,
        f"{test['conclusion']} (only {baseline} right: {only_baseline}, only {variant} right: {only_variant}).",
        Figure("results/compare/per_class_accuracy.png", "Per-class test accuracy of both variants."),
    ])


def provenance_section(run_info: dict) -> Section:
    versions = Table(["package", "version"], [[name, version] for name, version in run_info["versions"].items()])
    inputs = Table(["input", "sha256", "source"],
                   [[name, entry["sha256"], entry.get("source") or ""] for name, entry in run_info["inputs"].items()])
    return Section("How this run was made", [
        f"Seed {run_info['config'].get('seed')}; devices used: {', '.join(run_info['devices']) or 'none recorded'}; "
        f"host {run_info['host']}; written {run_info['created']}.",
        versions, inputs,
        "The run's configuration:",
        CodeBlock(run_info["config_yaml"]),
    ])


def _num(value: str, digits: int) -> str:
    return "" if value in ("", None) else f"{float(value):.{digits}f}"


def build_sections(results: Path, variants: list[str], run_info: dict) -> list[Section]:
    return [*autograd_sections(results), *denoise_sections(results), *classifier_sections(results, variants),
            provenance_section(run_info)]


# ---------------------------------------------------------------------------------------------- render

TITLE = "torchbasics — results of this run"


def to_markdown(sections: list[Section], page_folder: Path) -> str:
    lines = [f"# {TITLE}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(block.header) + " |")
                lines.append("|" + " --- |" * len(block.header))
                lines += ["| " + " | ".join(map(str, row)) + " |" for row in block.rows]
            elif isinstance(block, Figure):
                lines.append(f"![{block.caption}]({os.path.relpath(block.path, page_folder)})")
                lines.append(f"*{block.caption}*")
            elif isinstance(block, CodeBlock):
                lines += ["```yaml", block.text.rstrip(), "```"]
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


def to_html(sections: list[Section]) -> str:
    body = [f"<h1>{html.escape(TITLE)}</h1>"]
    for section in sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
                rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
                               for row in block.rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(block, Figure):
                data = base64.b64encode(Path(block.path).read_bytes()).decode()
                body.append(f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
                            f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
            elif isinstance(block, CodeBlock):
                body.append(f"<pre>{html.escape(block.text)}</pre>")
            else:
                body.append(f"<p>{_inline(block)}</p>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(TITLE)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


def _inline(text: str) -> str:
    """Paragraph text with the two Markdown marks the page uses: **bold** and `code`."""
    escaped = html.escape(text)
    parts = escaped.split("**")
    escaped = "".join(f"<strong>{part}</strong>" if index % 2 else part for index, part in enumerate(parts))
    parts = escaped.split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))


STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}"
         "td:first-child,th:first-child{text-align:left}img{max-width:100%}figcaption{font-style:italic}"
         "pre{background:#f4f4f4;padding:1em;overflow:auto}")


def write_summary(results: str | Path, variants: list[str], run_info_path: str | Path, markdown_out: str | Path,
                  html_out: str | Path) -> None:
    sections = build_sections(Path(results), variants, read_json(run_info_path))
    with atomic_path(markdown_out) as tmp:
        tmp.write_text(to_markdown(sections, Path(markdown_out).parent))
    with atomic_path(html_out) as tmp:
        tmp.write_text(to_html(sections))
