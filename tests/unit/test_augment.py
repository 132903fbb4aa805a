"""The training augmentation: the assignment's ranges, repeatability from the generator alone, its interface."""

import numpy as np
import pytest
import torch
from torchvision import transforms
from torchvision.transforms import functional

from torchbasics.classifier.augment import TorchvisionAugmentation

# The assignment's specification, written out here rather than imported, so a changed constant fails the tests.
SPEC_DEGREES = (-5.0, 5.0)
SPEC_SCALE = (0.8, 1.2)
SPEC_BRIGHTNESS = (0.8, 1.2)
SPEC_SATURATION = (0.8, 1.2)


def random_images(n, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8))


def generator(seed):
    return torch.Generator().manual_seed(seed)


def test_output_is_a_float_batch_in_the_unit_range():
    out = TorchvisionAugmentation()(random_images(6), generator(0))
    assert out.shape == (6, 3, 32, 32) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1


def test_same_generator_state_gives_the_same_batch_and_leaves_the_global_rng_alone():
    augmentation = TorchvisionAugmentation()
    images = random_images(8)
    torch.manual_seed(123)
    expected_global = torch.rand(3)
    torch.manual_seed(123)
    first = augmentation(images, generator(7))
    assert torch.equal(torch.rand(3), expected_global)  # weight init and the rest never see augmentation's draws
    assert torch.equal(augmentation(images, generator(7)), first)
    assert not torch.equal(augmentation(images, generator(8)), first)


class Recorder:
    """Wraps torchvision's parameter samplers to record every draw the augmentation makes."""

    def __init__(self, monkeypatch):
        self.affine, self.jitter, self.flips = [], [], 0
        affine_params, jitter_params, hflip = (
            transforms.RandomAffine.get_params,
            transforms.ColorJitter.get_params,
            functional.hflip,
        )

        def record_affine(*args, **kwargs):
            self.affine.append(affine_params(*args, **kwargs))
            return self.affine[-1]

        def record_jitter(*args, **kwargs):
            self.jitter.append(jitter_params(*args, **kwargs))
            return self.jitter[-1]

        def record_flip(image):
            self.flips += 1
            return hflip(image)

        monkeypatch.setattr(transforms.RandomAffine, "get_params", staticmethod(record_affine))
        monkeypatch.setattr(transforms.ColorJitter, "get_params", staticmethod(record_jitter))
        monkeypatch.setattr(functional, "hflip", record_flip)


@pytest.fixture(scope="module")
def draws():
    """Every parameter drawn while augmenting 400 images."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        recorder = Recorder(monkeypatch)
        TorchvisionAugmentation()(random_images(400), generator(1))
    return recorder


def test_each_image_is_drawn_its_own_parameters(draws):
    assert len(draws.affine) == len(draws.jitter) == 400


def test_flip_is_a_fair_coin(draws):
    assert 0.4 < draws.flips / 400 < 0.6


def test_rotation_and_scale_stay_inside_the_spec_and_use_its_range(draws):
    angles = np.array([angle for angle, _, _, _ in draws.affine])
    scales = np.array([scale for _, _, scale, _ in draws.affine])
    assert SPEC_DEGREES[0] <= angles.min() and angles.max() <= SPEC_DEGREES[1]
    assert SPEC_SCALE[0] <= scales.min() and scales.max() <= SPEC_SCALE[1]
    # uniform draws over the whole range, not a narrower one
    assert angles.min() < -4.5 and angles.max() > 4.5
    assert scales.min() < 0.82 and scales.max() > 1.18
    assert all(translation == (0, 0) and shear == (0.0, 0.0) for _, translation, _, shear in draws.affine)


def test_brightness_and_saturation_stay_inside_the_spec_and_nothing_else_is_jittered(draws):
    brightness = np.array([b for _, b, _, _, _ in draws.jitter])
    saturation = np.array([s for _, _, _, s, _ in draws.jitter])
    assert SPEC_BRIGHTNESS[0] <= brightness.min() and brightness.max() <= SPEC_BRIGHTNESS[1]
    assert SPEC_SATURATION[0] <= saturation.min() and saturation.max() <= SPEC_SATURATION[1]
    assert brightness.min() < 0.82 and brightness.max() > 1.18
    assert saturation.min() < 0.82 and saturation.max() > 1.18
    assert all(contrast is None and hue is None for _, _, contrast, _, hue in draws.jitter)


def test_colour_changes_of_the_augmented_pixels_stay_inside_the_spec():
    """Measured on the output, not on the draws: a plain-coloured image, read at its centre.

    Flip, rotation and scale leave the centre of a uniform image unchanged. Brightness scales the luminance by b;
    saturation blends with the grey of the same luminance, so it keeps the luminance and scales the distance
    between two channels by s (which also changes by b). Hence b = luminance ratio, s = channel-gap ratio / b.
    """
    colour = torch.tensor([128, 77, 51], dtype=torch.uint8)
    images = colour.expand(200, 32, 32, 3).contiguous()
    centre = TorchvisionAugmentation()(images, generator(2))[:, :, 16, 16].double()
    original = colour.double() / 255

    def luminance(rgb):
        return rgb[..., 0] * 0.2989 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114

    brightness = luminance(centre) / luminance(original)
    saturation = (centre[:, 0] - centre[:, 2]) / (original[0] - original[2]) / brightness
    tolerance = 1e-4  # float32 arithmetic
    assert brightness.min() >= SPEC_BRIGHTNESS[0] - tolerance and brightness.max() <= SPEC_BRIGHTNESS[1] + tolerance
    assert saturation.min() >= SPEC_SATURATION[0] - tolerance and saturation.max() <= SPEC_SATURATION[1] + tolerance
    assert brightness.std() > 0.05 and saturation.std() > 0.05  # both really vary
