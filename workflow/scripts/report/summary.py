"""Entry script of rule summary: the Markdown and self-contained HTML pages answering the assignment."""

from torchbasics.core.runtime import run_script
from torchbasics.report.summary import (
    AutogradFiles,
    ComparisonFiles,
    DenoiseFiles,
    PageFiles,
    PairedFiles,
    ReplicateFiles,
    VariantFiles,
    write_summary,
)
from torchbasics.report.summary_inputs import page_input


def page_files(snakemake) -> PageFiles:
    """The rule's named inputs as the page's files: per-variant inputs are named by their variant
    (``summary_inputs.page_input``), per-norm ones follow the norms' order in the params."""
    files = snakemake.input

    def of(name, variant):
        return files[page_input(name, variant)]

    variants = {
        variant: VariantFiles(
            best=of("train_best", variant),
            loss_figure=of("train_loss_figure", variant),
            metrics=of("eval_metrics", variant),
            per_class=of("eval_per_class", variant),
            confusion=of("eval_confusion", variant),
            confusion_figure=of("eval_confusion_figure", variant),
            confused_figure=of("eval_confused_figure", variant),
            history=of("train_history", variant),
            predictions=of("eval_predictions", variant),
            val_per_class_by_epoch=of("val_per_class_by_epoch", variant),
        )
        for variant in snakemake.params.variants
    }
    compared = snakemake.params.compared
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
        comparisons={
            variant: ComparisonFiles(
                table=of("compare_table", variant),
                test=of("compare_test", variant),
                figure=of("compare_figure", variant),
            )
            for variant in compared
        },
        run_info=files.run_info,
        val_loss_figure=files.train_val_loss_figure,
        replicates=ReplicateFiles(
            per_seed=files.replicates_per_seed,
            variants=files.replicates_variants,
            per_class=files.replicates_per_class,
            accuracy_figure=files.replicates_accuracy_figure,
            per_class_figure=files.replicates_per_class_figure,
            paired={
                variant: PairedFiles(paired=of("replicates_paired", variant), test=of("replicates_test", variant))
                for variant in compared
            },
        ),
        shown_seed=snakemake.params.shown_seed,
        implementation=snakemake.config["train"]["implementation"],
    )


def main(snakemake):
    write_summary(page_files(snakemake), snakemake.output.markdown, snakemake.output.html)


run_script(snakemake, main)
