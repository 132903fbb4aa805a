"""Part 1 (autograd, denoising) through Snakemake: the smoke run's outputs exist and make sense, and the denoising
stage also runs without a clean reference."""

import json
import math

import pytest
import yaml
from conftest import REPO, run_snakemake
from make_inputs import write_parrot_pair

from torchbasics.core import paths
from torchbasics.core.io import read_table, table_rows
from torchbasics.data.images import load_rgb
from torchbasics.denoise.regions import REGIONS, read_regions


def rows_of(path):
    """A CSV's rows as plain values, an empty cell as None."""
    return table_rows(read_table(path, (), "a table"))


FIGURES = [
    paths.AUTOGRAD_GRADIENT_FIGURE,
    paths.AUTOGRAD_CONVERGENCE_FIGURE,
    paths.DENOISE_COMPARISON_FIGURE,
    paths.DENOISE_LOSS_CURVES_FIGURE,
]


@pytest.fixture(scope="module")
def settings():
    """The config the smoke run used: config.yaml overlaid with tests/smoke.yaml, for part 1's two stages."""
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    smoke = yaml.safe_load((REPO / "tests" / "smoke.yaml").read_text())
    return {stage: {**base[stage], **smoke.get(stage, {})} for stage in ("autograd", "denoise")}


def test_autograd_tables(smoke_run, settings):
    rows = rows_of(smoke_run / paths.AUTOGRAD_GRADIENTS)
    assert len(rows) == settings["autograd"]["n_points"]
    for row in rows:
        assert abs(row["x"]) <= math.pi
        assert row["dzdx"] == pytest.approx(math.cos(row["x"]), abs=1e-5)
    summary = json.loads((smoke_run / paths.AUTOGRAD_SUMMARY).read_text())
    assert summary["gradient_at_quarter_pi"] == pytest.approx(math.sqrt(0.5), abs=1e-6)
    assert summary["max_abs_error"] == pytest.approx(max(row["abs_error"] for row in rows))
    assert summary["device"] in ("cpu", "cuda")
    convergence = rows_of(smoke_run / paths.AUTOGRAD_CONVERGENCE)
    assert len(convergence) == 2 * settings["autograd"]["convergence_max_terms"]
    float64 = [row["max_value_error"] for row in convergence if row["dtype"] == "float64"]
    assert float64[-1] < 1e-9 < float64[0]


def test_denoise_tables_and_images(smoke_run, settings):
    grid = settings["denoise"]
    rows = rows_of(smoke_run / paths.DENOISE_TABLE)
    assert len(rows) == len(grid["norms"]) * len(grid["lr"]) * len(grid["alpha"])
    noisy = load_rgb(smoke_run / "resources" / "parrot" / "noisy.png")
    best = json.loads((smoke_run / paths.DENOISE_BEST).read_text())
    for row in rows:
        assert row["iterations"] == grid["iterations"] and row["seconds"] > 0
        assert load_rgb(smoke_run / row["image"]).shape == noisy.shape
        assert 0 < row["ssim"] <= 1 and row["psnr"] > 0
    for norm in grid["norms"]:
        chosen = best["best"][norm]
        assert chosen["psnr"] == max(row["psnr"] for row in rows if row["norm"] == norm)
        assert chosen["psnr"] > best["noisy"]["psnr"] + 2  # denoising the made-up image must help
        losses = rows_of(smoke_run / paths.fill(paths.DENOISE_LOSSES, norm=norm))
        assert len(losses) == len(grid["lr"]) * len(grid["alpha"]) * (grid["iterations"] + 1)
    assert best["better_norm"] in grid["norms"]


def test_denoise_regions(smoke_run, settings):
    grid = settings["denoise"]
    table = read_regions(smoke_run / paths.DENOISE_REGIONS)
    # the noisy input, then every setting of every norm, each with its three regions
    images = [("noisy", None, None)] + [
        (norm, lr, alpha) for norm in grid["norms"] for lr in grid["lr"] for alpha in grid["alpha"]
    ]
    assert len(table) == len(images) * len(REGIONS)
    assert table["region"].tolist() == list(REGIONS) * len(images)
    everything = {(row["norm"], row["lr"], row["alpha"]): row for row in table_rows(table[table["region"] == "all"])}
    assert list(everything) == images
    best = json.loads((smoke_run / paths.DENOISE_BEST).read_text())
    assert everything[("noisy", None, None)]["psnr"] == pytest.approx(best["noisy"]["psnr"], rel=0, abs=1e-6)
    for row in rows_of(smoke_run / paths.DENOISE_TABLE):
        measured = everything[(row["norm"], row["lr"], row["alpha"])]
        assert measured["psnr"] == pytest.approx(row["psnr"], rel=0, abs=1e-6)
    noisy = load_rgb(smoke_run / "resources" / "parrot" / "noisy.png")
    pixels = {region: table[table["region"] == region]["pixels"].to_numpy() for region in REGIONS}
    assert (pixels["all"] == noisy.shape[0] * noisy.shape[1]).all() and (pixels["edges"] < pixels["flat"]).all()


def test_figures_and_records(smoke_run, settings):
    sheets = [
        paths.Figure(paths.fill(paths.DENOISE_CONTACT_SHEET.stem, norm=norm)) for norm in settings["denoise"]["norms"]
    ]
    for figure in FIGURES + sheets:
        assert (smoke_run / figure.png).read_bytes().startswith(b"\x89PNG"), figure
        assert b"<svg" in (smoke_run / figure.svg).read_bytes()[:2000], figure
    for norm in settings["denoise"]["norms"]:
        assert (smoke_run / "benchmarks" / "denoise_grid" / f"{norm}.tsv").exists()
        assert "setting(s)" in (smoke_run / "logs" / "denoise" / f"grid_{norm}.log").read_text()


def test_denoising_without_a_clean_reference(tmp_path):
    write_parrot_pair(tmp_path / "smoke-data", size=(40, 32))
    run_snakemake(
        tmp_path,
        "denoise",
        "--config",
        "data={parrot: {clean: null}}",
        "denoise={iterations: 5, lr: [0.5], alpha: [0.5, 1.0, 2.0]}",
    )
    rows = rows_of(tmp_path / paths.DENOISE_TABLE)
    assert len(rows) == 2 * 3
    assert all(row["psnr"] is None and row["ssim"] is None for row in rows)
    assert all(row["final_loss"] > 0 for row in rows)
    best = json.loads((tmp_path / paths.DENOISE_BEST).read_text())
    assert best["noisy"] == {"psnr": None, "ssim": None} and best["better_norm"] is None
    assert best["best"]["L1"]["alpha"] == 1.0  # the grid's centre, named because nothing can be judged
    assert (tmp_path / paths.DENOISE_COMPARISON_FIGURE.png).exists()
    assert not (tmp_path / "resources" / "parrot" / "clean.png").exists()
    assert not (tmp_path / paths.DENOISE_REGIONS).exists()  # nothing to measure the regions against


def test_a_reference_of_another_size_stops_the_job_and_leaves_nothing(tmp_path):
    _, clean_path = write_parrot_pair(tmp_path / "smoke-data", size=(40, 32))
    write_parrot_pair(tmp_path / "other", size=(40, 36))
    clean_path.write_bytes((tmp_path / "other" / "parrot.png").read_bytes())
    result = run_snakemake(
        tmp_path,
        paths.fill(paths.DENOISE_RESULTS, norm="L1"),
        "--config",
        "denoise={iterations: 2, lr: [0.5], alpha: [1.0]}",
        check=False,
    )
    assert result.returncode != 0
    assert "the clean reference must be the same photo, same size" in result.stderr
    assert not [path for path in tmp_path.glob("results/**/*") if path.is_file()]
