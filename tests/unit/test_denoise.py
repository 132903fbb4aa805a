"""Part 1.2: spatial gradients, the loss, its closed-form gradient, the normalised descent (autograd and fused),
quality metrics, the summary and the figures."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import REPO
from make_inputs import write_parrot_pair
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from torchbasics.core.errors import InputError
from torchbasics.core.figures import save_figure
from torchbasics.data import images
from torchbasics.denoise import denoise, denoise_files, plots, quality
from torchbasics.denoise.grid import Setting, grid_settings


def as_batch(rows):
    """A hand-written single-channel image as a (1, 1, H, W) float64 tensor."""
    return torch.tensor(rows, dtype=torch.float64)[None, None]


# ------------------------------------------------------------------------------------------- the model


def test_spatial_gradients_of_a_hand_checked_image():
    image = as_batch([[1, 2, 4], [3, 5, 9], [0, 1, 1]])
    dx, dy = denoise.get_spatial_gradients(image)
    # right neighbour minus the pixel; beyond the last column the zero padding gives minus the pixel
    assert torch.equal(dx, as_batch([[1, 2, -4], [2, 4, -9], [1, 0, -1]]))
    assert torch.equal(dy, as_batch([[2, 3, 5], [-3, -4, -8], [0, -1, -1]]))


def test_spatial_gradients_equal_the_courses_convolution():
    kernel_x = torch.tensor([[0, 0, 0], [0, -1, 1], [0, 0, 0]], dtype=torch.float64)
    kernel_y = torch.tensor([[0, 0, 0], [0, -1, 0], [0, 1, 0]], dtype=torch.float64)
    images_ = torch.rand(2, 3, 7, 9, dtype=torch.float64)
    dx, dy = denoise.get_spatial_gradients(images_)
    per_channel = images_.reshape(6, 1, 7, 9)
    for got, kernel in ((dx, kernel_x), (dy, kernel_y)):
        expected = F.conv2d(per_channel, kernel[None, None], padding=1).reshape(2, 3, 7, 9)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-15)


NOISY = as_batch([[0, 0], [0, 0]])
DENOISED = as_batch([[1, 2], [3, 4]])
# |I-J|: 1+2+3+4 = 10. dx = [[1, -2], [1, -4]], dy = [[2, 2], [-3, -4]] (zero padding right and below).


@pytest.mark.parametrize(
    "norm, alpha, expected",
    [
        ("L1", 0.5, 10 + 0.5 * ((1 + 2 + 1 + 4) + (2 + 2 + 3 + 4))),  # 19.5
        ("L2", 0.5, 30 + 0.5 * ((1 + 4 + 1 + 16) + (4 + 4 + 9 + 16))),  # squared norms: 57.5
        ("L1", 0.0, 10),
    ],
)
def test_loss_of_a_hand_checked_example(norm, alpha, expected):
    loss = denoise.denoising_loss(NOISY, DENOISED, alpha, norm)
    assert loss.shape == (1,)
    assert loss.item() == pytest.approx(expected)


def test_loss_takes_one_alpha_per_batch_element():
    batch = torch.cat([DENOISED, DENOISED])
    loss = denoise.denoising_loss(NOISY, batch, torch.tensor([0.0, 0.5], dtype=torch.float64), "L1")
    assert loss.tolist() == pytest.approx([10, 19.5])


# ------------------------------------------------------------------------------------------- the descent


def noisy_example(seed=0, shape=(1, 3, 12, 10)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32)


def random_pair(seed, shape=(1, 3, 9, 11)):
    """A noisy image and a J near it, float64, with exact zeros in I - J, dJ/dx and dJ/dy: J equals I on its top
    rows and is constant on a block (and so is I there), where the non-smooth L1 terms meet their kinks."""
    generator = torch.Generator().manual_seed(seed)
    noisy = torch.rand(shape, generator=generator, dtype=torch.float64)
    noisy[..., 4:7, 2:6] = 0.25
    denoised = noisy + 0.1 * torch.randn(shape, generator=generator, dtype=torch.float64)
    denoised[..., :2, :] = noisy[..., :2, :]
    denoised[..., 4:7, 2:6] = 0.25
    return noisy, denoised


def autograd_gradient(noisy, denoised, alpha, norm):
    denoised = denoised.clone().requires_grad_(True)
    denoise.denoising_loss(noisy, denoised, alpha, norm).sum().backward()
    return denoised.grad


@pytest.mark.parametrize("norm", denoise.NORMS)
@pytest.mark.parametrize("seed, alpha, at_start", [(0, 1.5, False), (1, 0.3, False), (2, 4.0, True), (3, 0.0, False)])
def test_closed_form_gradient_equals_autograds(norm, seed, alpha, at_start):
    noisy, denoised = random_pair(seed)
    if at_start:
        denoised = noisy.clone()  # the descent's first step: I - J is zero everywhere
    dx, dy = denoise.get_spatial_gradients(denoised)
    assert (dx == 0).any() and (dy == 0).any() and ((noisy - denoised) == 0).any()  # the kinks are really there
    expected = autograd_gradient(noisy, denoised, alpha, norm)
    got = denoise.closed_form_gradient(noisy, denoised, alpha, norm)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10 * expected.abs().max().item())


def test_l1_gradient_is_zero_where_the_absolute_value_has_its_kink():
    # J = I = a constant c: I - J = 0 and the differences are 0 inside, -c past the last row and column.
    # With sign(0) = 0 (torch's backward of abs) only the borders pull: Dx^T sign(dx) = [[0, 1], [0, 1]],
    # Dy^T sign(dy) = [[0, 0], [1, 1]]; any other value at 0 would add +-1 everywhere.
    image = as_batch([[0.5, 0.5], [0.5, 0.5]])
    gradient = denoise.closed_form_gradient(image, image.clone(), 2.0, "L1")
    assert torch.equal(gradient, 2.0 * as_batch([[0, 1], [1, 2]]))
    assert torch.equal(gradient, autograd_gradient(image, image, 2.0, "L1"))


def test_closed_form_gradient_refuses_bad_input():
    with pytest.raises(InputError, match="unknown norm"):
        denoise.closed_form_gradient(NOISY, DENOISED, 1.0, "no-such-norm")
    with pytest.raises(InputError, match="differ in size"):
        denoise.closed_form_gradient(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9), 1.0, "L1")


@pytest.mark.parametrize("norm", denoise.NORMS)
def test_fused_step_moves_j_by_lr_against_the_unit_gradient(norm):
    noisy, denoised = random_pair(4)
    alpha, lr = torch.tensor(1.5, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64)
    loss, moved = denoise.fused_step(noisy, denoised, alpha, lr, norm)
    gradient = denoise.closed_form_gradient(noisy, denoised, 1.5, norm)
    torch.testing.assert_close(moved, denoised - 0.7 * gradient / gradient.norm(), rtol=0, atol=1e-14)
    assert (moved - denoised).norm().item() == pytest.approx(0.7, rel=1e-12)
    assert loss.item() == pytest.approx(denoise.denoising_loss(noisy, denoised, 1.5, norm).item(), rel=1e-12)


def test_fused_step_with_a_zero_gradient_stays_put():
    noisy = noisy_example().double()
    alpha, lr = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1e6, dtype=torch.float64)
    loss, moved = denoise.fused_step(noisy, noisy.clone(), alpha, lr, "L2")  # alpha 0 at J = I: g = 0
    assert torch.equal(moved, noisy) and loss.item() == 0


@pytest.mark.parametrize("norm", denoise.NORMS)
def test_a_grid_solved_both_ways_gives_the_same_pictures(tmp_path, norm):
    noisy_path, clean_path = write_parrot_pair(tmp_path, size=(40, 32), sigma=0.2)
    noisy = denoise.to_tensor(images.load_rgb(noisy_path))
    clean = denoise.to_tensor(images.load_rgb(clean_path))
    grid = grid_settings([0.3, 0.9], [0.0, 1.5, 4.5])
    fused = denoise.solve_grid(noisy, grid, norm, 60, implementation="fast")
    reference = denoise.solve_grid(noisy, grid, norm, 60, implementation="reference")
    assert [s.setting for s in fused] == [s.setting for s in reference] == grid
    for ours, theirs in zip(fused, reference):
        psnr = [quality.psnr(solution.image[None], clean).item() for solution in (ours, theirs)]
        assert psnr[0] == pytest.approx(psnr[1], abs=0.01)
        # float32 rounding differs between the two gradients, and once the fixed-length steps oscillate about
        # the optimum it is no longer damped: close, not equal
        assert ours.losses == pytest.approx(theirs.losses, rel=1e-3)
    # and the settings really differ, so the comparison above could have failed
    assert not torch.allclose(fused[1].image, fused[4].image, atol=1e-3)


@pytest.mark.parametrize("implementation", denoise.IMPLEMENTATIONS)
@pytest.mark.parametrize("lr, alpha", [(0.1, 1.0), (0.7, 1.0), (0.3, 0.2)])
def test_every_step_moves_the_image_by_lr(implementation, lr, alpha):
    noisy = noisy_example()
    image, _ = denoise.descend(noisy, Setting(lr, alpha), "L1", 1, implementation)
    assert (image - noisy).norm().item() == pytest.approx(lr, rel=1e-5)


@pytest.mark.parametrize("implementation", denoise.IMPLEMENTATIONS)
@pytest.mark.parametrize("lr", [0.5, 1e6])
def test_zero_gradient_leaves_the_image_alone(implementation, lr):
    # alpha 0 at J = I: the loss is at its minimum and the gradient is zero; no 0/0 may creep in
    noisy = noisy_example()
    image, losses = denoise.descend(noisy, Setting(lr, 0.0), "L2", 3, implementation)
    assert torch.equal(image, noisy)
    assert losses.abs().max().item() == 0


@pytest.mark.parametrize("implementation", denoise.IMPLEMENTATIONS)
def test_losses_are_recorded_before_each_step_and_after_the_last(implementation):
    noisy = noisy_example()
    _, losses = denoise.descend(noisy, Setting(0.05, 1.0), "L1", 25, implementation)
    assert losses.shape == (26,)
    assert losses[0].item() == pytest.approx(denoise.denoising_loss(noisy, noisy, 1.0, "L1").item())
    assert losses[-1].item() < losses[0].item()


@pytest.mark.slow  # torch.compile builds a C++ kernel: about a minute on a small CPU
@pytest.mark.parametrize("norm", denoise.NORMS)
def test_compiled_fused_step_equals_the_eager_one(norm):
    noisy, denoised = (t.float() for t in random_pair(5, shape=(1, 3, 16, 20)))
    alpha, lr = torch.tensor(1.5), torch.tensor(0.9)
    compiled = denoise.CompiledFusedStep()
    loss, moved = compiled(noisy, denoised, alpha, lr, norm)
    assert not compiled.failed
    eager_loss, eager_moved = denoise.fused_step(noisy, denoised, alpha, lr, norm)
    torch.testing.assert_close(moved, eager_moved, rtol=0, atol=1e-6)
    assert loss.item() == pytest.approx(eager_loss.item(), rel=1e-5)


def test_a_failed_compile_falls_back_to_the_eager_step(caplog):
    def no_compiler():
        raise RuntimeError("no working C++ compiler")

    noisy, denoised = random_pair(6)
    args = (noisy, denoised, torch.tensor(1.5, dtype=torch.float64), torch.tensor(0.9, dtype=torch.float64), "L1")
    compiled = denoise.CompiledFusedStep(build=no_compiler)
    loss, moved = compiled(*args)
    assert compiled.failed and "no working C++ compiler" in caplog.text
    eager_loss, eager_moved = denoise.fused_step(*args)
    assert torch.equal(moved, eager_moved) and torch.equal(loss, eager_loss)


@pytest.mark.parametrize("norm", denoise.NORMS)
def test_denoising_a_noisy_picture_raises_its_psnr(tmp_path, norm):
    noisy_path, clean_path = write_parrot_pair(tmp_path, size=(48, 40), sigma=0.2)
    noisy = denoise.to_tensor(images.load_rgb(noisy_path))
    clean = denoise.to_tensor(images.load_rgb(clean_path))
    [solution] = denoise.solve_grid(noisy, [Setting(0.3, 1.0)], norm, 150)
    before, after = quality.psnr(noisy, clean).item(), quality.psnr(solution.image[None], clean).item()
    assert after > before + 3


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "grid, iterations, message",
    [
        ([], 10, "grid is empty"),
        ([Setting(0.0, 1.0)], 10, "lr must be positive"),
        ([Setting(-0.5, 1.0)], 10, "lr must be positive"),
        ([Setting(0.5, -0.1)], 10, "alpha must be zero or positive"),
        ([Setting(float("nan"), 1.0)], 10, "lr must be positive"),
        ([Setting(0.5, 1.0)], 0, "iterations"),
    ],
)
def test_bad_grids_are_refused(grid, iterations, message):
    with pytest.raises(InputError, match=message):
        denoise.solve_grid(noisy_example(), grid, "L1", iterations)


def test_an_image_becomes_one_contiguous_plane_per_channel():
    pixels = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    image = denoise.to_tensor(pixels)
    assert image.shape == (1, 3, 12, 10) and image.is_contiguous()
    assert torch.equal(image[0, 1], torch.from_numpy(pixels[:, :, 1]).float() / 255)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((12, 10), np.uint8),
        np.zeros((12, 10, 4), np.uint8),
        np.zeros((12, 10, 3), np.float32),
        np.zeros((2, 12, 10, 3), np.uint8),
    ],
)
def test_images_of_the_wrong_shape_or_type_are_refused(pixels):
    with pytest.raises(InputError, match=r"\(H, W, 3\) uint8"):
        denoise.to_tensor(pixels)


def test_tensors_of_the_wrong_shape_are_refused():
    with pytest.raises(InputError, match=r"\(N, C, H, W\)"):
        denoise.get_spatial_gradients(torch.rand(3, 8, 8))
    with pytest.raises(InputError, match="differ in size"):
        denoise.denoising_loss(torch.rand(1, 3, 8, 8), torch.rand(2, 3, 8, 9), 1.0, "L1")
    with pytest.raises(InputError, match="unknown norm"):
        denoise.denoising_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), 1.0, "no-such-norm")
    with pytest.raises(InputError, match="expected one image"):
        denoise.descend(torch.rand(2, 3, 8, 8), Setting(0.5, 1.0), "L1", 2)
    with pytest.raises(InputError, match="unknown implementation"):
        denoise.solve_grid(noisy_example(), [Setting(0.5, 1.0)], "L1", 2, implementation="parallel")


def test_a_reference_of_another_size_is_refused():
    noisy = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(InputError, match="clean.png is 30x21 but noisy.png is 30x20"):
        denoise.check_reference(noisy, np.zeros((21, 30, 3), np.uint8), "noisy.png", "clean.png")
    with pytest.raises(InputError, match="at least 11x11"):
        denoise.check_reference(np.zeros((9, 30, 3), np.uint8), np.zeros((9, 30, 3), np.uint8), "n.png", "c.png")
    denoise.check_reference(noisy, None, "noisy.png", None)  # no reference is fine


def config_with(section):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["denoise"].update(section)
    return config


@pytest.mark.parametrize(
    "section",
    [
        {"alpha": [-0.5]},
        {"lr": [0]},
        {"lr": [-1.0]},
        {"lr": []},
        {"alpha": []},
        {"norms": []},
        {"lr": [0.9, 0.9]},
        {"iterations": 0},
        {"implementation": "threads"},
        {"implementation": "fused"},
    ],
)
def test_schema_refuses_bad_grids(section):
    with pytest.raises(WorkflowError):
        validate(config_with(section), str(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def test_default_grid_holds_the_reference_reports_setting():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    settings = config["denoise"]
    assert 0.9 in settings["lr"] and 1.5 in settings["alpha"] and settings["iterations"] == 1000
    assert set(settings["norms"]) == {"L1", "L2"}


# ------------------------------------------------------------------------------------------- quality


def test_psnr_of_a_known_error():
    reference = torch.full((3, 16, 16), 0.5, dtype=torch.float64)
    assert quality.psnr(reference + 0.1, reference).item() == pytest.approx(20.0)  # MSE 0.01
    assert quality.psnr(reference, reference).item() == float("inf")
    batch = torch.stack([reference + 0.1, reference + 0.01])
    assert quality.psnr(batch, reference).tolist() == pytest.approx([20.0, 40.0])


def test_ssim_of_uniform_images_follows_the_formula():
    # no variance anywhere: SSIM = (2 a b + C1) / (a^2 + b^2 + C1), whatever the window
    a, b, c1 = 0.6, 0.3, (0.01 * 1.0) ** 2
    value = quality.ssim(torch.full((3, 20, 20), a), torch.full((3, 20, 20), b)).item()
    assert value == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))


def reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """Wang et al.'s SSIM window by window with plain NumPy: an independent check of the torch version."""
    offsets = np.arange(11) - 5
    profile = np.exp(-(offsets**2) / (2 * 1.5**2))
    weights = np.outer(profile, profile) / np.outer(profile, profile).sum()
    c1, c2 = 0.01**2, 0.03**2
    per_channel = []
    for xc, yc in zip(x, y):
        values = []
        for top in range(xc.shape[0] - 10):
            for left in range(xc.shape[1] - 10):
                wx, wy = xc[top : top + 11, left : left + 11], yc[top : top + 11, left : left + 11]
                mx, my = (weights * wx).sum(), (weights * wy).sum()
                vx, vy = (weights * (wx - mx) ** 2).sum(), (weights * (wy - my) ** 2).sum()
                cov = (weights * (wx - mx) * (wy - my)).sum()
                values.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
        per_channel.append(np.mean(values))
    return float(np.mean(per_channel))


def test_ssim_matches_a_window_by_window_reference():
    rng = np.random.default_rng(3)
    clean = rng.random((3, 15, 14))
    noisy = np.clip(clean + rng.normal(0, 0.2, clean.shape), 0, 1)
    got = quality.ssim(torch.from_numpy(noisy), torch.from_numpy(clean)).item()
    assert got == pytest.approx(reference_ssim(noisy, clean), rel=1e-10)
    assert quality.ssim(torch.from_numpy(clean), torch.from_numpy(clean)).item() == pytest.approx(1.0)


def test_quality_refuses_mismatched_or_tiny_images():
    with pytest.raises(InputError, match="differ in size"):
        quality.psnr(torch.rand(3, 12, 12), torch.rand(3, 12, 13))
    with pytest.raises(InputError, match="at least 11x11"):
        quality.ssim(torch.rand(3, 10, 12), torch.rand(3, 10, 12))
    assert quality.measure(torch.rand(3, 12, 12), None) == {"psnr": None, "ssim": None}


# ------------------------------------------------------------------------------------------- tables and choices


def result(norm, lr, alpha, psnr):
    return {
        "norm": norm,
        "lr": lr,
        "alpha": alpha,
        "iterations": 10,
        "final_loss": 1.0,
        "psnr": psnr,
        "ssim": None if psnr is None else 0.5,
        "seconds": 0.1,
        "image": f"{norm}/{lr}_{alpha}.png",
    }


def test_summary_names_the_best_setting_of_each_norm_and_the_better_norm():
    rows = [
        result("L1", 0.3, 0.5, 25.0),
        result("L1", 0.9, 1.5, 28.0),
        result("L2", 0.3, 0.5, 24.0),
        result("L2", 0.9, 1.5, 23.0),
    ]
    summary = denoise.summarise(pd.DataFrame(rows), {"psnr": 15.0, "ssim": 0.2})
    assert (summary["best"]["L1"]["lr"], summary["best"]["L1"]["alpha"]) == (0.9, 1.5)
    assert (summary["best"]["L2"]["lr"], summary["best"]["L2"]["alpha"]) == (0.3, 0.5)
    assert summary["best"]["L1"]["psnr_gain_db"] == pytest.approx(13.0)
    assert summary["better_norm"] == "L1"
    assert "PSNR" in summary["criterion"]


def test_summary_without_a_reference_shows_the_grid_centre_and_judges_nothing():
    rows = [result("L1", lr, alpha, None) for lr in (0.3, 0.9, 2.7) for alpha in (0.5, 1.5, 4.5)]
    summary = denoise.summarise(pd.DataFrame(rows), {"psnr": None, "ssim": None})
    assert (summary["best"]["L1"]["lr"], summary["best"]["L1"]["alpha"]) == (0.9, 1.5)
    assert summary["better_norm"] is None
    assert "no clean reference" in summary["criterion"]


def test_result_and_loss_rows_round_trip_through_csv(tmp_path):
    noisy = noisy_example(shape=(1, 3, 16, 14))
    solutions = denoise.solve_grid(noisy, grid_settings([0.2], [0.5, 1.0]), "L1", 5)
    rows = [
        denoise.result_row("L1", s, denoise.to_pixels(s.image), noisy, f"img{i}.png") for i, s in enumerate(solutions)
    ]
    denoise_files.write_results(tmp_path / "results.csv", rows)
    denoise_files.write_losses(tmp_path / "losses.csv", denoise.loss_rows("L1", solutions))
    back = denoise_files.read_results(tmp_path / "results.csv")
    assert back.to_dict("records") == rows  # every number read back as it was written
    assert back[["lr", "alpha", "iterations", "implementation"]].values.tolist() == [
        [0.2, 0.5, 5, "fast"],
        [0.2, 1.0, 5, "fast"],
    ]
    reference = denoise.solve_grid(noisy, grid_settings([0.2], [0.5]), "L1", 5, implementation="reference")[0]
    assert denoise.result_row("L1", reference, denoise.to_pixels(reference.image), noisy, "r.png")[
        "implementation"
    ] == ("reference")
    losses = denoise_files.read_losses(tmp_path / "losses.csv")
    assert len(losses) == 2 * 6 and losses["loss"].iloc[5] == solutions[0].losses[5]
    no_reference = denoise.result_row("L1", solutions[0], denoise.to_pixels(solutions[0].image), None, "x.png")
    denoise_files.write_results(tmp_path / "plain.csv", [no_reference])
    assert (tmp_path / "plain.csv").read_text().splitlines()[1].split(",")[6:8] == ["", ""]
    assert denoise_files.read_results(tmp_path / "plain.csv")[["psnr", "ssim"]].isna().all(axis=None)


def test_pixels_are_clipped_and_rounded_only_when_saved():
    image = torch.tensor([[[-0.2, 0.5, 1.3]]]).expand(3, 1, 3)
    assert denoise.to_pixels(image)[0, :, 0].tolist() == [0, 128, 255]
    pixels = np.arange(60, dtype=np.uint8).reshape(4, 5, 3)
    assert np.array_equal(denoise.to_pixels(denoise.to_tensor(pixels)[0]), pixels)


def test_figures_render(tmp_path):
    rng = np.random.default_rng(0)
    tiles = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(4)]
    figures = {
        "sheet": plots.contact_sheet(
            tiles, ["a", "b", "c", "d"], 2, 2, ["lr 1", "lr 2"], ["alpha 1", "alpha 2"], "sheet"
        ),
        "comparison": plots.comparison_figure(tiles[:3], ["noisy", "L1", "L2"], "best"),
        "losses": plots.loss_curves_figure(
            {
                "L1": {(0.1, 1.0): ([0, 1, 2], [3.0, 2.0, 1.5]), (0.3, 1.0): ([0, 1, 2], [3.0, 1.5, 1.2])},
                "L2": {(0.1, 2.0): ([0, 1, 2], [3.0, 1.0, 0.5])},
            }
        ),
    }
    for name, figure in figures.items():
        save_figure(figure, tmp_path / f"{name}.png", tmp_path / f"{name}.svg")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:2000]
