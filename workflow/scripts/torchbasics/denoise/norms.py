"""The table of denoising norms: one entry per norm, and nothing else names them.

A norm's loss is ``sum phi(I-J) + alpha (sum phi(dJ/dx) + sum phi(dJ/dy))`` for its elementwise penalty phi; the
fast descent also needs phi' for the gradient's closed form. Adding a norm is one ``Norm`` here (plus its unit
tests); the config's choices, the grid, the figures and the page's denoising sections loop over the configured
norms. Penalties are written with tensor methods, so this module imports no torch and the workflow can read it
while it parses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torchbasics.core import registry


@dataclass(frozen=True)
class Contrast:
    """The page's explanations of how a norm's results differ from the reference norm's, by region: each is said
    only where the evidence shows that difference."""

    edges_lost: str  # why the reference keeps edges better
    edges_kept: str  # what it means that this norm is at least as good on edges
    flats_lost: str  # why the reference also removes noise better on flat pixels (finishes "...better too (x dB): ")


@dataclass(frozen=True)
class Norm:
    name: str
    penalty: Callable  # phi, elementwise, on a tensor
    derivative: Callable  # phi', elementwise; at a kink, the value torch's backward of ``penalty`` takes there
    label: str  # the loss in words, for the page
    question: str | None  # the letter of the handout's question 1.2 its results answer; None for a norm of one's own
    # What the page says of how this norm was read from the handout, where that needs saying; None where not.
    note: str | None = None
    # Why its results differ from the reference norm's; None where no mechanism is known, and the page then says
    # only what the evidence shows.
    contrast: Contrast | None = None


REGISTRY = {
    norm.name: norm
    for norm in (
        Norm(
            "L1",
            penalty=lambda t: t.abs(),
            derivative=lambda t: t.sign(),  # 0 at t = 0, as torch's backward of abs() has it
            label="||I-J||_1 + alpha (||dJ/dx||_1 + ||dJ/dy||_1)",
            question="b",
        ),
        Norm(
            "L2",
            penalty=lambda t: t.square(),
            derivative=lambda t: 2 * t,
            label="||I-J||_2^2 + alpha (||dJ/dx||_2^2 + ||dJ/dy||_2^2)",
            question="c",
            note=(
                "The L2 variant uses squared norms, ||I-J||_2^2 + alpha(||dJ/dx||_2^2 + ||dJ/dy||_2^2). The literal "
                "norm ||I-J||_2 has no gradient at the starting point J = I (the norm of zero is not differentiable "
                "there), so descent could not start from the noisy image as the handout asks; squaring gives a "
                "smooth loss whose gradient is defined everywhere, and it is the usual reading of an 'L2 variant' "
                "of total variation."
            ),
            contrast=Contrast(
                edges_lost=(
                    "The squared penalty charges a jump between neighbours by its square, so spreading one large step "
                    "over several small ones costs less: it blurs edges. L1 charges a jump by its size however it is "
                    "spread, so it can leave an edge sharp while flattening the noise around it."
                ),
                edges_kept=(
                    "Here the squared penalty did not cost the edges more than L1 did: L2 is at least as good on edge "
                    "pixels, so the textbook argument (a squared penalty blurs edges) does not decide this run."
                ),
                flats_lost=(
                    "the squared penalty's pull on a difference shrinks with the difference, so it leaves small noise "
                    "nearly untouched, while L1 pulls every difference towards zero with the same force."
                ),
            ),
        ),
    )
}
# The handout's own norm: every other configured norm is compared against it ("L2 against L1").
REFERENCE = "L1"


def heading(names) -> str:
    """The handout questions the norms ``names`` answer, as the page heads them: "1.2 b, c"."""
    letters = [norm(name).question for name in names if norm(name).question]
    return f"1.2 {', '.join(letters)}" if letters else "1.2"


def check_configured(names) -> None:
    """Refuse a configured norm that is not in the table, naming the setting."""
    registry.check_configured(REGISTRY, (("denoise.norms", name) for name in names), "norm", "norms")


def norm(name: str) -> Norm:
    """The registered norm ``name``; an unknown name is refused with the registered ones."""
    return registry.registered(REGISTRY, name, "norm", "norms")
