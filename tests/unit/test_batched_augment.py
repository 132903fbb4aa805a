"""The batched augmentation against torchvision's functional ops, and the distribution of its parameters."""

import math

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

from torchbasics.classifier import batched_augment as B
from torchbasics.classifier.augment import TorchvisionAugmentation
from torchbasics.classifier.train import batch_sizes
from torchbasics.core.tensors import images_to_tensor


@pytest.fixture
def images_uint8():
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))


def reference_float(images_uint8):
    return torch.stack([TF.to_tensor(image) for image in images_uint8.numpy()])


def test_to_float_is_to_tensor(images_uint8):
    torch.testing.assert_close(images_to_tensor(images_uint8), reference_float(images_uint8), rtol=0, atol=0)


def test_flip_matches_exactly(images_uint8):
    images = reference_float(images_uint8)
    flip = torch.arange(16) % 3 == 0
    out = B.horizontal_flip(images, flip)
    for i in range(16):
        expected = TF.hflip(images[i]) if flip[i] else images[i]
        assert torch.equal(out[i], expected)


@pytest.mark.parametrize("angle,scale", [(0.0, 1.0), (5.0, 1.0), (-5.0, 0.8), (3.3, 1.2), (-1.7, 0.93)])
def test_affine_matches_torchvision(images_uint8, angle, scale):
    images = reference_float(images_uint8)
    out = B.affine(images, torch.full((16,), angle), torch.full((16,), scale))
    expected = torch.stack(
        [
            TF.affine(
                image,
                angle=angle,
                translate=[0, 0],
                scale=scale,
                shear=[0.0, 0.0],
                interpolation=InterpolationMode.NEAREST,
                fill=0,
            )
            for image in images
        ]
    )
    # Nearest neighbour: a sampling point that falls within float rounding of a pixel border may pick the
    # neighbour. Allow at most 0.5% of pixels to differ; all others must be equal exactly.
    differing = (out != expected).any(dim=1).float().mean().item()
    assert differing <= 0.005, differing


def test_identity_affine_is_exact(images_uint8):
    images = reference_float(images_uint8)
    assert torch.equal(B.affine(images, torch.zeros(16), torch.ones(16)), images)


@pytest.mark.parametrize("factor", [0.8, 1.0, 1.13, 1.2])
def test_brightness_and_saturation_match_torchvision(images_uint8, factor):
    images = reference_float(images_uint8)
    factors = torch.full((16,), factor)
    bright = torch.stack([TF.adjust_brightness(image, factor) for image in images])
    saturated = torch.stack([TF.adjust_saturation(image, factor) for image in images])
    torch.testing.assert_close(B.adjust_brightness(images, factors), bright, rtol=0, atol=1e-6)
    torch.testing.assert_close(B.adjust_saturation(images, factors), saturated, rtol=0, atol=1e-6)


def test_color_jitter_applies_the_drawn_order(images_uint8):
    images = reference_float(images_uint8)
    brightness, saturation = torch.full((16,), 1.2), torch.full((16,), 0.8)
    first = torch.arange(16) % 2 == 0
    out = B.color_jitter(images, brightness, saturation, first)
    for i in range(16):
        if first[i]:
            expected = TF.adjust_saturation(TF.adjust_brightness(images[i], 1.2), 0.8)
        else:
            expected = TF.adjust_brightness(TF.adjust_saturation(images[i], 0.8), 1.2)
        torch.testing.assert_close(out[i], expected, rtol=0, atol=1e-6)


def test_whole_pipeline_for_fixed_parameters(images_uint8):
    params = B.draw_params(16, torch.Generator().manual_seed(3))
    out = B.apply(images_uint8, params)
    for i, image in enumerate(reference_float(images_uint8)):
        if params.flip[i]:
            image = TF.hflip(image)
        image = TF.affine(
            image,
            angle=float(params.angle[i]),
            translate=[0, 0],
            scale=float(params.scale[i]),
            shear=[0.0, 0.0],
            interpolation=InterpolationMode.NEAREST,
            fill=0,
        )
        b, s = float(params.brightness[i]), float(params.saturation[i])
        if params.brightness_first[i]:
            image = TF.adjust_saturation(TF.adjust_brightness(image, b), s)
        else:
            image = TF.adjust_brightness(TF.adjust_saturation(image, s), b)
        close = torch.isclose(out[i], image, rtol=0, atol=1e-5).all(dim=0).float().mean().item()
        assert close >= 0.995, (i, close)
    assert out.shape == (16, 3, 32, 32) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1


def test_parameters_follow_the_spec_distributions():
    n = 40000
    params = B.draw_params(n, torch.Generator().manual_seed(546))
    for values, (low, high) in [
        (params.angle, (-5, 5)),
        (params.scale, (0.8, 1.2)),
        (params.brightness, (0.8, 1.2)),
        (params.saturation, (0.8, 1.2)),
    ]:
        assert values.min() >= low and values.max() <= high
        # uniform: each of 10 equal bins holds a tenth; chi-square with 9 degrees of freedom, 0.1% critical 27.9
        counts = torch.histc(values.float(), bins=10, min=low, max=high)
        chi_square = (((counts - n / 10) ** 2) / (n / 10)).sum().item()
        assert chi_square < 27.9, chi_square
    for flags in (params.flip, params.brightness_first):
        # a fair coin: |fraction - 0.5| within 4 standard errors
        assert abs(flags.float().mean().item() - 0.5) < 4 * math.sqrt(0.25 / n)


def test_same_generator_state_same_batch(images_uint8):
    augmentation = B.BatchedAugmentation()
    first = augmentation(images_uint8, torch.Generator().manual_seed(9))
    second = augmentation(images_uint8, torch.Generator().manual_seed(9))
    third = augmentation(images_uint8, torch.Generator().manual_seed(10))
    assert torch.equal(first, second) and not torch.equal(first, third)


@pytest.mark.parametrize("augmentation", [B.BatchedAugmentation(), TorchvisionAugmentation()])
def test_an_epochs_augmentation_drawn_up_front_gives_the_batch_by_batch_numbers(augmentation):
    images = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (21, 32, 32, 3), dtype=np.uint8))
    sizes = batch_sizes(len(images), 8)
    assert sizes == [8, 8, 5]
    batches = list(images.split(sizes))
    per_batch = torch.Generator().manual_seed(4)
    expected = [augmentation(batch, per_batch) for batch in batches]
    augment = augmentation.for_epoch(torch.Generator().manual_seed(4), sizes, "cpu")
    for batch, wanted in zip(batches, expected):
        assert torch.equal(augment(batch), wanted)


def test_an_epochs_parameters_are_each_batchs_draws_in_order():
    generator = torch.Generator().manual_seed(7)
    per_batch = [B.draw_params(size, generator) for size in (4, 4, 3)]
    epoch = B.draw_epoch_params([4, 4, 3], torch.Generator().manual_seed(7)).split([4, 4, 3])
    for drawn, sliced in zip(per_batch, epoch):
        for name in B.AugmentParams.__dataclass_fields__:
            assert torch.equal(getattr(drawn, name), getattr(sliced, name)), name


def test_cached_constants_are_made_once_per_device_and_never_written(images_uint8):
    first = B._grey_weights(torch.device("cpu"), torch.float32)
    B.apply(images_uint8, B.draw_params(len(images_uint8), torch.Generator().manual_seed(2)))
    assert B._grey_weights(torch.device("cpu"), torch.float32) is first
    assert torch.equal(first.flatten(), torch.tensor(B.GREY_WEIGHTS))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (benchmarks/gpu_check.sh runs it)")
def test_the_augmentation_on_cuda_equals_the_cpus(images_uint8):
    sizes = [8, 8]
    on_cpu = B.BatchedAugmentation().for_epoch(torch.Generator().manual_seed(5), sizes, "cpu")
    on_cuda = B.BatchedAugmentation().for_epoch(torch.Generator().manual_seed(5), sizes, "cuda")
    for batch in images_uint8.split(sizes):
        cuda_pixels, cpu_pixels = on_cuda(batch.cuda()).cpu(), on_cpu(batch)
        # The same parameters, so the same pixels up to float32 rounding of the blends; a sampling position that
        # rounds to the other side of a pixel edge on one device may take a neighbouring pixel (a few at most).
        differing = ((cuda_pixels - cpu_pixels).abs() > 1e-6).double().mean().item()
        assert differing <= 1e-3, differing
