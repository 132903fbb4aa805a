"""Parrot images: what is converted to 8-bit RGB and what is refused."""

import numpy as np
import pytest
from PIL import Image

from torchbasics.core.errors import InputError
from torchbasics.data import images


def saved(tmp_path, image, name="in.png"):
    path = tmp_path / name
    image.save(path)
    return path


def test_rgb_is_kept_and_written_as_png(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    source = saved(tmp_path, Image.fromarray(pixels))
    assert images.prepare(source, tmp_path / "out" / "noisy.png") == (30, 20)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "noisy.png")), pixels)


def test_grey_is_replicated_to_three_channels(tmp_path):
    grey = np.arange(400, dtype=np.uint8).reshape(20, 20)
    rgb = images.load_rgb(saved(tmp_path, Image.fromarray(grey, mode="L")))
    assert rgb.shape == (20, 20, 3) and (rgb == grey[:, :, None]).all()


def test_16_bit_grey_is_scaled_to_8_bit(tmp_path):
    grey16 = np.full((10, 10), 65535, dtype=np.uint16)
    grey16[0, 0] = 257 * 100
    rgb = images.load_rgb(saved(tmp_path, Image.fromarray(grey16)))
    assert rgb.dtype == np.uint8 and rgb[1, 1, 0] == 255 and rgb[0, 0, 2] == 100


def test_opaque_alpha_is_dropped(tmp_path):
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    rgb = images.load_rgb(saved(tmp_path, Image.fromarray(rgba, mode="RGBA")))
    assert rgb.shape == (10, 10, 3) and (rgb[..., 0] == 200).all()


def test_transparency_is_refused(tmp_path):
    rgba = np.full((10, 10, 4), 255, dtype=np.uint8)
    rgba[0, 0, 3] = 0
    with pytest.raises(InputError, match="transparent pixels"):
        images.load_rgb(saved(tmp_path, Image.fromarray(rgba, mode="RGBA")))


def test_float_image_is_refused(tmp_path):
    path = saved(tmp_path, Image.fromarray(np.zeros((10, 10), dtype=np.float32), mode="F"), "in.tiff")
    with pytest.raises(InputError, match="mode 'F' is not supported"):
        images.load_rgb(path)


def test_truncated_png_is_refused(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = saved(tmp_path, Image.fromarray(pixels))
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputError, match="not a readable image"):
        images.prepare(path, tmp_path / "out" / "noisy.png")
    assert not (tmp_path / "out" / "noisy.png").exists()


def test_tiny_image_is_refused(tmp_path):
    with pytest.raises(InputError, match="at least 8 pixels"):
        images.load_rgb(saved(tmp_path, Image.new("RGB", (4, 50))))
