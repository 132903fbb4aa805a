"""Extending the pipeline as a newcomer would: a third network and a third denoising norm, each added by its class or
penalty and one registry entry, in a copy of the workflow, then run beside the smoke run's results.

Nothing else is edited: the config's choices, the rules, the comparisons, the figures and the page must pick both up.
"""

from pathlib import Path

from conftest import MOVED_WORKFLOW_TRIGGERS, copy_workflow, run_snakemake

TOY_NETWORK = '''

class ToyCNN(nn.Module):
    """A course's third network: one pooled conv block of 16 channels, then the shared head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(conv_pool_relu(3, 16), nn.MaxPool2d(2))
        self.head = classifier_head(16 * 8 * 8)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
'''
TOY_VARIANT = """\
        Variant("toy", "torchbasics.classifier.models:ToyCNN", "one pooled conv block of 16 channels"),
"""
TOY_NORM = """\
        Norm(
            "Huber",
            penalty=lambda t: (t.abs() <= 1) * 0.5 * t.square() + (t.abs() > 1) * (t.abs() - 0.5),
            derivative=lambda t: t.clamp(-1, 1),
            label="Huber losses",
            question=None,
        ),
"""
END_OF_REGISTRY = "    )\n}\n"
EXTENDED = ["train={variants: [plain, residual, toy]}", "denoise={norms: [L1, L2, Huber]}"]


def add_entry(module: Path, entry: str) -> None:
    """Put ``entry`` last in the module's REGISTRY, as a newcomer would."""
    text = module.read_text()
    assert text.count(END_OF_REGISTRY) == 1, module
    module.write_text(text.replace(END_OF_REGISTRY, entry + END_OF_REGISTRY))


def extended_workflow(folder: Path) -> Path:
    workflow = copy_workflow(folder)
    library = workflow / "workflow" / "scripts" / "torchbasics"
    models = library / "classifier" / "models.py"
    models.write_text(models.read_text() + TOY_NETWORK)
    add_entry(library / "classifier" / "variants.py", TOY_VARIANT)
    add_entry(library / "denoise" / "norms.py", TOY_NORM)
    return workflow


def test_a_registered_network_and_norm_run_through_every_stage_onto_the_page(own_smoke_run, tmp_path):
    workflow = extended_workflow(tmp_path / "workflow")
    workdir = own_smoke_run.workdir
    run_snakemake(workdir, "--config", *EXTENDED, *MOVED_WORKFLOW_TRIGGERS, workflow=workflow)

    results = workdir / "results"
    for seed in (546, 547):
        assert (results / "eval" / "toy" / f"seed{seed}" / "metrics.json").exists()
        assert (results / "compare" / "toy_vs_plain" / f"seed{seed}" / "mcnemar.json").exists()
    assert (results / "replicates" / "toy_vs_plain" / "paired_test.json").exists()
    assert (results / "denoise" / "figures" / "contact_sheet_Huber.png").exists()

    page = (results / "report" / "summary.md").read_text()
    for heading in (
        "2.0 g i, ii — test accuracy (toy)",
        "2.0 g iv — the worst class and its confusion (toy)",
        "2.0 h — the residual variant",
        "2.0 h — the toy variant",
        "1.2 — the Huber variant: better or worse, and why",
    ):
        assert f"## {heading}" in page, heading
    assert "toy minus plain, trained with the same seed" in page and "residual minus plain" in page
    assert "toy fits the training data faster" in page or "toy does not fit the training data faster" in page
    assert "identity paths" not in page.split("## 2.0 h — the toy variant")[1].split("## ")[0]
    assert "Better or worse: Huber did" in page or "Better or worse depends on the measure" in page
    assert "contact_sheet_Huber.png" in page and "compare/toy_vs_plain/seed546/per_class_accuracy.png" in page


def test_an_unregistered_network_or_norm_is_refused_before_anything_runs(smoke, tmp_path):
    result = run_snakemake(
        tmp_path, "-n", "--config", "train={variants: [plain, toy]}", check=False, workflow=smoke.workflow
    )
    assert result.returncode != 0
    assert "train.variants: unknown model variant 'toy'; registered variants: plain, residual" in result.stdout
    result = run_snakemake(tmp_path, "-n", "--config", "denoise={norms: [Huber]}", check=False)
    assert result.returncode != 0
    assert "denoise.norms: unknown norm 'Huber'; registered norms: L1, L2" in result.stdout
