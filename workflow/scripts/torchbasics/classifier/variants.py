"""The registry of CIFAR-10 networks the pipeline can train: one entry per variant, and nothing else names them.

Adding a network is its class (in ``torchbasics.classifier.models`` or a module of its own) plus one ``Variant``
here; the config's choices, the rules, the benchmarks and the page read this registry. It imports no torch, so the
workflow can read it while it parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchbasics.core import registry


@dataclass(frozen=True)
class Mechanism:
    """Why a variant may fit the training data faster than the baseline, as the page words it."""

    part: str  # what the variant has that the baseline lacks, e.g. "its identity paths"
    effect: str  # what that part does, e.g. "pass the gradient straight to the earlier layers"


@dataclass(frozen=True)
class Variant:
    name: str
    network: str  # "module:Class", the network's class (imported only when a network is built)
    description: str  # one line, for the page and for listing the registered variants
    # None where no mechanism is known: the page then says only what the evidence shows.
    mechanism: Mechanism | None = None


REGISTRY = {
    variant.name: variant
    for variant in (
        Variant(
            "plain",
            "torchbasics.classifier.models:PlainCNN",
            "the assignment's table: four 3x3 conv blocks, three max-pools, two linear layers",
        ),
        Variant(
            "residual",
            "torchbasics.classifier.models:ResidualCNN",
            "the table's network with its last two conv blocks made residual blocks (identity paths)",
            mechanism=Mechanism("its identity paths", "pass the gradient straight to the earlier layers"),
        ),
    )
}
# The variant every other configured variant is compared against, unless the config names another.
DEFAULT_BASELINE = "plain"


def check_configured(names, baseline: str) -> None:
    """Refuse a configured variant or baseline that is not registered, naming the setting."""
    named = [*(("train.variants", name) for name in names), ("train.baseline", baseline)]
    registry.check_configured(REGISTRY, named, "model variant", "variants")


def variant(name: str) -> Variant:
    """The registered variant ``name``; an unknown name is refused with the registered ones."""
    return registry.registered(REGISTRY, name, "model variant", "variants")


def compared_with(baseline: str, configured: list[str]) -> list[str]:
    """The configured variants compared with ``baseline``, in the config's order: none where it is not trained."""
    return [name for name in configured if name != baseline] if baseline in configured else []
