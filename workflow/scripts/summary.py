"""Entry script of rule summary: the Markdown and self-contained HTML pages answering the assignment."""

from torchbasics.runtime import run_script
from torchbasics.summary import (
    AutogradFiles,
    ComparisonFiles,
    DenoiseFiles,
    PageFiles,
    ReplicateFiles,
    VariantFiles,
    write_summary,
)


def page_files(snakemake) -> PageFiles:
    """The rule's named inputs as the page's files (per-variant and per-norm lists follow the params' order; the
    per-variant files are those of the seed the page shows in full)."""
    files = snakemake.input
    variants = {
        variant: VariantFiles(
            best=files.train_best[index],
            loss_figure=files.train_loss_figures[index],
            metrics=files.eval_metrics[index],
            per_class=files.eval_per_class[index],
            confusion=files.eval_confusion[index],
            confusion_figure=files.eval_confusion_figures[index],
            confused_figure=files.eval_confused_figures[index],
            history=files.train_histories[index],
            predictions=files.eval_predictions[index],
            val_per_class_by_epoch=files.val_per_class_by_epoch[index],
        )
        for index, variant in enumerate(snakemake.params.variants)
    }
    comparison = (
        ComparisonFiles(table=files.compare_table, test=files.compare_test, figure=files.compare_figure)
        if files.compare_test
        else None
    )
    return PageFiles(
        autograd=AutogradFiles(
            summary=files.autograd_summary,
            gradient_figure=files.autograd_gradient_figure,
            convergence_figure=files.autograd_convergence_figure,
        ),
        denoise=DenoiseFiles(
            best=files.denoise_best,
            table=files.denoise_table,
            contact_sheets=dict(zip(snakemake.params.norms, files.denoise_contact_sheets)),
            comparison_figure=files.denoise_comparison_figure,
            psnr_heatmap=files.denoise_psnr_heatmap or None,  # an empty list without a clean original
            regions=files.denoise_regions or None,
        ),
        variants=variants,
        comparison=comparison,
        run_info=files.run_info,
        val_loss_figure=files.train_val_loss_figure,
        replicates=ReplicateFiles(
            per_seed=files.replicates_per_seed,
            variants=files.replicates_variants,
            per_class=files.replicates_per_class,
            accuracy_figure=files.replicates_accuracy_figure,
            per_class_figure=files.replicates_per_class_figure,
            paired=files.replicates_paired or None,  # empty lists where the variants are not compared
            test=files.replicates_test or None,
        ),
        shown_seed=snakemake.params.shown_seed,
        implementation=snakemake.config["train"]["implementation"],
    )


def main(snakemake):
    write_summary(page_files(snakemake), snakemake.output.markdown, snakemake.output.html)


run_script(snakemake, main)
