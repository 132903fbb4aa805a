"""Quality on the clean image's edges and flat areas: the masks, the per-region PSNR and error, the table."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from torchbasics.core.errors import InputError
from torchbasics.data import images
from torchbasics.denoise import denoise, denoise_files, quality, regions

SHIFT = 20  # how far (in 8-bit steps) a made "denoised" image is off where it is wrong


def random_pixels(seed, shape=(16, 20, 3), low=30, high=220):
    """uint8 pixels away from 0 and 255, so that adding SHIFT never clips."""
    return np.random.default_rng(seed).integers(low, high, size=shape, dtype=np.uint8)


# ------------------------------------------------------------------------------------------- the regions


def test_forward_differences_equal_the_courses_spatial_gradients():
    image = np.random.default_rng(0).random((7, 9, 3))
    dx, dy = regions.forward_differences(image)
    as_tensor = torch.from_numpy(image).permute(2, 0, 1)[None]  # (1, C, H, W)
    expected_dx, expected_dy = denoise.get_spatial_gradients(as_tensor)
    assert np.array_equal(dx, expected_dx[0].permute(1, 2, 0).numpy())
    assert np.array_equal(dy, expected_dy[0].permute(1, 2, 0).numpy())
    magnitude = torch.sqrt((expected_dx**2 + expected_dy**2).sum(dim=1))[0].numpy()
    np.testing.assert_allclose(regions.gradient_magnitude(image), magnitude, rtol=1e-15)


def test_a_known_edge_is_the_top_decile():
    # A dark 10x10 image with a bright first column: its one edge is the step from column 0 to column 1 (the
    # zero padding adds none on the dark right and bottom borders). That column is 10 of 100 pixels: the top
    # decile; every other pixel has no gradient and lies in the lower half.
    clean = np.zeros((10, 10, 3))
    clean[:, 0] = 0.8
    masks = regions.region_masks(clean)
    first_column = np.zeros((10, 10), dtype=bool)
    first_column[:, 0] = True
    assert np.array_equal(masks["edges"], first_column)
    assert np.array_equal(masks["flat"], ~first_column)
    assert masks["all"].all()


def test_edges_are_the_top_tenth_and_flat_the_lower_half_of_the_gradient_magnitude():
    clean = np.random.default_rng(1).random((20, 20, 3))  # 400 distinct magnitudes
    magnitude = regions.gradient_magnitude(clean)
    masks = regions.region_masks(clean)
    assert masks["edges"].sum() == 40 and masks["flat"].sum() == 200
    assert magnitude[masks["edges"]].min() > magnitude[~masks["edges"]].max()
    assert magnitude[masks["flat"]].max() < magnitude[~masks["flat"]].min()


# ------------------------------------------------------------------------------------------- the quality


def test_region_quality_of_a_known_error():
    clean = np.zeros((4, 5, 3))
    masks = {"left": np.zeros((4, 5), dtype=bool), "all": np.ones((4, 5), dtype=bool)}
    masks["left"][:, :2] = True
    image = clean.copy()
    image[:, :2] = 0.1  # wrong by 0.1 on the left 8 of 20 pixels, all channels
    rows = regions.region_quality(image, clean, masks)
    assert [row["pixels"] for row in rows] == [8, 20]
    assert rows[0]["psnr"] == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert rows[0]["mean_abs_error"] == pytest.approx(0.1)
    assert rows[1]["psnr"] == pytest.approx(10 * math.log10(1 / (0.01 * 8 / 20)))
    assert rows[1]["mean_abs_error"] == pytest.approx(0.1 * 8 / 20)


def write_case(folder, clean, noisy, denoised: dict):
    """The clean and noisy PNGs, each denoised image (key: (norm, lr, alpha)) as a PNG, and the results table
    naming them as rule denoise_grid's tables do."""
    folder.mkdir(parents=True, exist_ok=True)
    images.save_png(clean, folder / "clean.png")
    images.save_png(noisy, folder / "noisy.png")
    rows = []
    for (norm, lr, alpha), pixels in denoised.items():
        path = str(folder / norm / f"lr{lr}_alpha{alpha}.png")
        images.save_png(pixels, path)
        rows.append({"norm": norm, "lr": lr, "alpha": alpha, "iterations": 1, "final_loss": 1.0, "image": path})
    return folder / "clean.png", folder / "noisy.png", pd.DataFrame(rows, columns=denoise_files.RESULT_COLUMNS)


def measured(tmp_path, clean, noisy, denoised):
    clean_path, noisy_path, results = write_case(tmp_path, clean, noisy, denoised)
    return regions.region_table(clean_path, noisy_path, results, list(results["image"]))


def psnr_of(table, norm, region):
    return table[(table["norm"] == norm) & (table["region"] == region)]["psnr"].item()


def test_an_image_exact_on_the_edges_wins_there_and_loses_in_the_flat_areas(tmp_path):
    clean = random_pixels(2)
    masks = regions.region_masks(regions.scaled(clean))
    exact_on_edges, exact_on_flat = clean.copy(), clean.copy()
    exact_on_edges[~masks["edges"]] += SHIFT  # wrong everywhere but the edges, the flat areas included
    exact_on_flat[~masks["flat"]] += SHIFT
    table = measured(
        tmp_path, clean, random_pixels(3), {("L1", 0.3, 0.5): exact_on_edges, ("L2", 0.3, 0.5): exact_on_flat}
    )
    assert psnr_of(table, "L1", "edges") == math.inf
    assert psnr_of(table, "L2", "flat") == math.inf
    wrong = 20 * math.log10(255 / SHIFT)  # an error of SHIFT/255 on every pixel of the region
    assert psnr_of(table, "L1", "flat") == pytest.approx(wrong)
    assert psnr_of(table, "L2", "edges") == pytest.approx(wrong)
    # the edges go to the image exact there, the flat areas to the other
    assert psnr_of(table, "L1", "edges") > psnr_of(table, "L2", "edges")
    assert psnr_of(table, "L2", "flat") > psnr_of(table, "L1", "flat")


def test_the_table_holds_every_image_and_region_and_its_all_region_is_quality_psnr(tmp_path):
    clean = random_pixels(4)
    denoised = {
        (norm, 0.3, alpha): random_pixels(seed)
        for seed, (norm, alpha) in enumerate([("L1", 0.5), ("L1", 1.5), ("L2", 0.5), ("L2", 1.5)], start=10)
    }
    noisy = random_pixels(5)
    table = measured(tmp_path, clean, noisy, denoised)
    assert list(table.columns) == regions.REGION_COLUMNS
    assert len(table) == (1 + len(denoised)) * len(regions.REGIONS)
    assert table["region"].tolist() == list(regions.REGIONS) * (1 + len(denoised))
    assert table["norm"].tolist()[:3] == ["noisy"] * 3 and table["lr"][:3].isna().all()
    pixels = {region: table[table["region"] == region]["pixels"].to_numpy() for region in regions.REGIONS}
    assert (pixels["all"] == 16 * 20).all() and (pixels["edges"] < pixels["flat"]).all()
    reference = denoise.to_tensor(clean)[0]
    everything = table[table["region"] == "all"]
    for image, psnr in zip([noisy, *denoised.values()], everything["psnr"]):
        assert psnr == pytest.approx(quality.psnr(denoise.to_tensor(image)[0], reference).item(), rel=0, abs=1e-6)


def test_the_table_round_trips_through_csv(tmp_path):
    clean = random_pixels(6)
    table = measured(tmp_path, clean, random_pixels(7), {("L1", 0.3, 0.5): clean})  # exact: PSNR +inf
    regions.write_regions(tmp_path / "regions.csv", table)
    read = regions.read_regions(tmp_path / "regions.csv")
    pd.testing.assert_frame_equal(read, table, check_dtype=False)
    assert (read[read["norm"] == "L1"]["psnr"] == math.inf).all()


# ------------------------------------------------------------------------------------------- bad input


def test_an_image_of_another_size_is_refused_by_name(tmp_path):
    clean_path, noisy_path, results = write_case(
        tmp_path, random_pixels(8), random_pixels(9), {("L1", 0.3, 0.5): random_pixels(10, shape=(16, 24, 3))}
    )
    with pytest.raises(InputError, match=r"lr0.3_alpha0.5.png is 24x16 but the clean original .*clean.png is 20x16"):
        regions.region_table(clean_path, noisy_path, results, list(results["image"]))


def test_a_missing_image_is_refused_by_name(tmp_path):
    clean_path, noisy_path, results = write_case(
        tmp_path, random_pixels(8), random_pixels(9), {("L1", 0.3, 0.5): random_pixels(10)}
    )
    (tmp_path / "L1" / "lr0.3_alpha0.5.png").unlink()
    with pytest.raises(InputError, match=r"L1/lr0.3_alpha0.5.png: not a readable image"):
        regions.region_table(clean_path, noisy_path, results, list(results["image"]))


def test_results_must_name_exactly_the_given_images(tmp_path):
    clean_path, noisy_path, results = write_case(
        tmp_path, random_pixels(8), random_pixels(9), {("L1", 0.3, 0.5): random_pixels(10)}
    )
    with pytest.raises(InputError, match=r"not among the denoised images: .*lr0.3_alpha0.5.png"):
        regions.region_table(clean_path, noisy_path, results, [])
    with pytest.raises(InputError, match=r"no denoising result names the denoised image\(s\) other.png"):
        regions.region_table(clean_path, noisy_path, results, [*results["image"], "other.png"])
