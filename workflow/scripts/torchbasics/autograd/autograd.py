"""Part 1.1: the Taylor series of sine, differentiated by autograd and checked against cos.

The series is summed term by term with each term made from the one before,
``t_k = -t_{k-1} * x**2 / ((2k)(2k+1))``, so no factorial or high power is ever formed. Formed directly,
35! already overflows float32 (from 18 terms on, inf/inf would make the sum nan), while every ``t_k`` for
|x| <= pi is at most pi**3/6 (about 5.2) in magnitude, and later terms only shrink towards zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from torchbasics.autograd.autograd_files import GRADIENT_COLUMNS
from torchbasics.core.errors import InputError

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def sin_taylor(x: torch.Tensor, n_terms: int) -> torch.Tensor:
    """``sum_{k<n_terms} (-1)**k x**(2k+1) / (2k+1)!``, elementwise, for a floating tensor of any shape or device.

    Built from differentiable tensor operations only, so ``backward()`` gives its derivative, which is the
    first ``n_terms`` terms of the series of cos.
    """
    if isinstance(n_terms, bool) or not isinstance(n_terms, int) or n_terms < 1:
        raise InputError(f"sin_taylor: n_terms must be a positive integer, got {n_terms!r}")
    if not torch.is_tensor(x) or not torch.is_floating_point(x):
        raise InputError(f"sin_taylor: x must be a floating-point tensor, got {getattr(x, 'dtype', type(x))}")
    minus_x_squared = -x * x
    term = x
    total = x
    for k in range(1, n_terms):
        term = term * minus_x_squared / ((2 * k) * (2 * k + 1))
        total = total + term
    return total


def gradient_at(x0: float, n_terms: int, dtype: torch.dtype, device: str) -> float:
    """dz/dx of ``sin_taylor`` at one point, by ``y.backward()`` on a scalar, as the handout does."""
    x = torch.tensor(x0, dtype=dtype, device=device, requires_grad=True)
    y = sin_taylor(x, n_terms)
    y.backward()
    return x.grad.item()


def uniform_points(n_points: int, seed: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """``n_points`` draws from U[-pi, pi], made on the CPU from ``seed`` so every device gets the same points."""
    generator = torch.Generator().manual_seed(seed)
    unit = torch.rand(n_points, generator=generator, dtype=torch.float64)
    return ((2 * unit - 1) * math.pi).to(dtype=dtype, device=device)


def gradients(x: torch.Tensor, n_terms: int) -> torch.Tensor:
    """dz/dx at every point of ``x`` at once: ``y.sum().backward()``, since each y_i depends only on x_i."""
    x = x.detach().clone().requires_grad_(True)
    y = sin_taylor(x, n_terms)
    y.sum().backward()
    return x.grad


@dataclass
class GradientStudy:
    """The handout's two gradient checks, on one device in one dtype."""

    n_terms: int
    x: torch.Tensor  # the uniform points, on the CPU
    dzdx: torch.Tensor
    at_quarter_pi: float  # dz/dx at pi/4 by y.backward()

    @property
    def cos_x(self) -> torch.Tensor:
        return torch.cos(self.x)

    @property
    def abs_error(self) -> torch.Tensor:
        return (self.dzdx - self.cos_x).abs()

    @property
    def quarter_pi_error(self) -> float:
        return abs(self.at_quarter_pi - math.cos(math.pi / 4))

    def rows(self) -> list[dict]:
        """One row per point, in draw order, with the columns of ``GRADIENT_COLUMNS``."""
        columns = zip(self.x.tolist(), self.dzdx.tolist(), self.cos_x.tolist(), self.abs_error.tolist())
        return [dict(zip(GRADIENT_COLUMNS, values)) for values in columns]

    def summary(self, device: str) -> dict:
        return {
            "n_terms": self.n_terms,
            "dtype": str(self.x.dtype).removeprefix("torch."),
            "device": device,
            "gradient_at_quarter_pi": self.at_quarter_pi,
            "cos_quarter_pi": math.cos(math.pi / 4),
            "error_at_quarter_pi": self.quarter_pi_error,
            "n_points": len(self.x),
            "max_abs_error": self.abs_error.max().item(),
        }


def gradient_study(n_terms: int, n_points: int, seed: int, dtype: str, device: str) -> GradientStudy:
    """Gradient at pi/4 and at ``n_points`` seeded uniform points of [-pi, pi], computed on ``device``."""
    torch_dtype = DTYPES[dtype]
    x = uniform_points(n_points, seed, torch_dtype, device)
    return GradientStudy(
        n_terms=n_terms,
        x=x.cpu(),
        dzdx=gradients(x, n_terms).cpu(),
        at_quarter_pi=gradient_at(math.pi / 4, n_terms, torch_dtype, device),
    )


def convergence(max_terms: int, n_points: int, dtype: str, device: str) -> list[dict]:
    """Max |error| of the value (vs sin) and of the autograd gradient (vs cos) over a dense grid of [-pi, pi],
    for 1..max_terms terms. The reference sin/cos are taken in float64 so the float32 rows show float32's
    own rounding floor, not the reference's."""
    torch_dtype = DTYPES[dtype]
    grid = torch.linspace(-math.pi, math.pi, n_points, dtype=torch.float64)
    x = grid.to(dtype=torch_dtype, device=device)
    exact_x = x.double().cpu()  # the rounded points the series actually saw
    rows = []
    for n_terms in range(1, max_terms + 1):
        value = sin_taylor(x, n_terms).double().cpu()
        slope = gradients(x, n_terms).double().cpu()
        rows.append(
            {
                "n_terms": n_terms,
                "dtype": dtype,
                "max_value_error": (value - torch.sin(exact_x)).abs().max().item(),
                "max_gradient_error": (slope - torch.cos(exact_x)).abs().max().item(),
            }
        )
    return rows


# ------------------------------------------------------------------------------------------- the tables
