"""Part 1.1: the Taylor series of sine, its autograd gradient, the convergence study and their figures."""

import math

import pytest
import torch
import yaml
from conftest import REPO
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from torchbasics.autograd import autograd, autograd_files, plots
from torchbasics.core.errors import InputError
from torchbasics.core.figures import save_figure

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_first_terms_match_the_series_written_out():
    x = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], dtype=torch.float64)
    assert torch.equal(autograd.sin_taylor(x, 1), x)
    torch.testing.assert_close(autograd.sin_taylor(x, 3), x - x**3 / 6 + x**5 / 120, rtol=0, atol=1e-15)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype, n_terms, tolerance", [(torch.float64, 20, 1e-14), (torch.float32, 12, 1e-6)])
def test_value_and_gradient_match_sin_and_cos(device, dtype, n_terms, tolerance):
    x = torch.linspace(-math.pi, math.pi, 2001, dtype=dtype, device=device, requires_grad=True)
    y = autograd.sin_taylor(x, n_terms)
    y.sum().backward()
    assert y.device.type == device and y.dtype == dtype
    assert (y.detach() - torch.sin(x.detach())).abs().max().item() < tolerance
    assert (x.grad - torch.cos(x.detach())).abs().max().item() < 4 * tolerance


def test_keeps_the_shape_of_its_input():
    x = torch.rand(2, 3, 4, dtype=torch.float64) * 2 - 1
    assert autograd.sin_taylor(x, 8).shape == (2, 3, 4)
    assert autograd.sin_taylor(torch.tensor(0.5), 8).shape == ()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_many_terms_neither_overflow_nor_lose_accuracy(dtype):
    # formed directly, 35! overflows float32 and the sum turns nan; the recurrence never forms it
    x = torch.tensor([-math.pi, -1e-3, 0.0, 2.0, math.pi], dtype=dtype)
    y = autograd.sin_taylor(x, 40)
    assert torch.isfinite(y).all()
    assert (y - torch.sin(x)).abs().max().item() < (1e-6 if dtype == torch.float32 else 1e-14)


def test_gradient_at_quarter_pi_by_backward():
    slope = autograd.gradient_at(math.pi / 4, 10, torch.float64, "cpu")
    assert slope == pytest.approx(math.cos(math.pi / 4), abs=1e-12)
    # two terms: d/dx (x - x^3/6) = 1 - x^2/2, a hand-checkable gradient
    assert autograd.gradient_at(math.pi / 4, 2, torch.float64, "cpu") == pytest.approx(1 - (math.pi / 4) ** 2 / 2)


def test_uniform_points_are_seeded_and_inside_the_interval():
    first = autograd.uniform_points(100, 546, torch.float64, "cpu")
    assert torch.equal(first, autograd.uniform_points(100, 546, torch.float64, "cpu"))
    assert not torch.equal(first, autograd.uniform_points(100, 547, torch.float64, "cpu"))
    assert first.abs().max().item() <= math.pi
    assert first.min().item() < -2 and first.max().item() > 2  # spread over the interval, not bunched


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_study_rows_and_summary(device):
    study = autograd.gradient_study(10, 100, 546, "float32", device)
    rows = study.rows()
    assert len(rows) == 100 and list(rows[0]) == autograd_files.GRADIENT_COLUMNS
    for row in rows:
        assert row["cos_x"] == pytest.approx(math.cos(row["x"]), abs=1e-6)
        assert row["abs_error"] == pytest.approx(abs(row["dzdx"] - row["cos_x"]))
    summary = study.summary(device)
    assert summary["device"] == device and summary["dtype"] == "float32" and summary["n_points"] == 100
    assert summary["max_abs_error"] == pytest.approx(max(row["abs_error"] for row in rows))
    assert summary["max_abs_error"] < 1e-5
    assert summary["error_at_quarter_pi"] < 1e-6


def test_convergence_shrinks_with_terms_until_the_rounding_floor():
    rows64 = autograd.convergence(12, 1001, "float64", "cpu")
    assert [row["n_terms"] for row in rows64] == list(range(1, 13))
    for column in ("max_value_error", "max_gradient_error"):
        errors = [row[column] for row in rows64]
        assert all(later < earlier for earlier, later in zip(errors[2:], errors[3:]))
    assert rows64[0]["max_value_error"] == pytest.approx(math.pi)  # sin(x) ~ x misses sin(pi) = 0 by pi
    assert rows64[-1]["max_value_error"] < 1e-12
    rows32 = autograd.convergence(12, 1001, "float32", "cpu")
    assert 1e-8 < rows32[-1]["max_value_error"] < 1e-6  # float32's own rounding, not the series


@pytest.mark.parametrize("n_terms", [0, -1, 2.5, True, "10"])
def test_bad_term_counts_are_refused(n_terms):
    with pytest.raises(InputError, match="n_terms"):
        autograd.sin_taylor(torch.tensor([1.0]), n_terms)


def test_integer_input_is_refused():
    with pytest.raises(InputError, match="floating-point"):
        autograd.sin_taylor(torch.tensor([1, 2]), 5)


@pytest.mark.parametrize(
    "section",
    [
        {"n_terms": 0},
        {"n_points": 0},
        {"dtype": "float16"},
        {"convergence_max_terms": 0},
        {"device": "tpu"},
        {"n_term": 5},
    ],
)
def test_schema_refuses_bad_settings(section):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["autograd"].update(section)
    with pytest.raises(WorkflowError):
        validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def test_figures_render_from_the_tables(tmp_path):
    study = autograd.gradient_study(6, 20, 0, "float64", "cpu")
    autograd_files.write_gradients(tmp_path / "gradients.csv", study.rows())
    convergence = [row for dtype in autograd.DTYPES for row in autograd.convergence(5, 51, dtype, "cpu")]
    autograd_files.write_convergence(tmp_path / "convergence.csv", convergence)
    assert autograd_files.read_gradients(tmp_path / "gradients.csv").to_dict("records") == study.rows()
    assert autograd_files.read_convergence(tmp_path / "convergence.csv").to_dict("records") == convergence
    figures = {
        "gradient": plots.gradient_figure(autograd_files.read_gradients(tmp_path / "gradients.csv"), 6),
        "convergence": plots.convergence_figure(autograd_files.read_convergence(tmp_path / "convergence.csv")),
    }
    for name, figure in figures.items():
        save_figure(figure, tmp_path / f"{name}.png", tmp_path / f"{name}.svg")
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:2000]
