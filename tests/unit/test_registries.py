"""The variant registry and the norm table: every entry works, unknown names are refused naming the registered
ones, and a new entry is picked up by the code that builds networks and descends, with no other change."""

import pytest
import torch
from torch import nn

from torchbasics.classifier import variants
from torchbasics.classifier.models import build_model, classifier_head
from torchbasics.core.errors import InputError
from torchbasics.denoise import denoise, norms
from torchbasics.denoise.grid import Setting


class ToyCNN(nn.Module):
    """A network a course might add: one pooled conv block, then the shared head over its features."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(4), nn.ReLU())
        self.head = classifier_head(8 * 8 * 8)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@pytest.mark.parametrize("name", variants.REGISTRY)
def test_every_registered_variant_builds_a_network_of_ten_logits(name):
    torch.manual_seed(0)
    assert build_model(name)(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert variants.variant(name).description


def test_the_baseline_default_is_registered():
    assert variants.DEFAULT_BASELINE in variants.REGISTRY


def test_a_new_variant_is_one_registry_entry(monkeypatch):
    toy = variants.Variant("toy", f"{__name__}:ToyCNN", "a one-block network")
    monkeypatch.setitem(variants.REGISTRY, "toy", toy)
    model = build_model("toy")
    assert isinstance(model, ToyCNN) and model(torch.rand(3, 3, 32, 32)).shape == (3, 10)


def test_an_entry_that_names_no_network_class_is_refused(monkeypatch):
    monkeypatch.setitem(
        variants.REGISTRY, "broken", variants.Variant("broken", "torchbasics.classifier.models:N_CLASSES", "x")
    )
    with pytest.raises(
        InputError, match="'broken': torchbasics.classifier.models:N_CLASSES is not a torch network class"
    ):
        build_model("broken")


def test_an_unknown_variant_or_norm_is_refused_naming_the_registered_ones():
    with pytest.raises(InputError, match="unknown model variant 'no-such-network'; registered variants: plain"):
        variants.variant("no-such-network")
    with pytest.raises(InputError, match="unknown norm 'no-such-norm'; registered norms: L1, L2"):
        norms.norm("no-such-norm")


def test_the_head_takes_its_input_size():
    head = classifier_head(7)
    assert head(torch.rand(4, 7)).shape == (4, 10) and head[1].in_features == 7


@pytest.mark.parametrize("name", norms.REGISTRY)
def test_every_norms_derivative_is_what_autograd_gives_for_its_penalty(name):
    entry = norms.norm(name)
    t = torch.tensor([-1.5, -0.2, 0.0, 0.3, 2.0], dtype=torch.float64, requires_grad=True)
    entry.penalty(t).sum().backward()
    assert torch.equal(entry.derivative(t.detach()), t.grad)
    assert entry.label and entry.question


def test_the_reference_norm_is_registered():
    assert norms.REFERENCE in norms.REGISTRY


def huber(t):
    return torch.where(t.abs() <= 1, 0.5 * t.square(), t.abs() - 0.5)


def test_a_new_norm_is_one_table_entry(monkeypatch):
    toy = norms.Norm(
        "Huber", penalty=huber, derivative=lambda t: t.clamp(-1, 1), label="Huber losses", question="1.2 d"
    )
    monkeypatch.setitem(norms.REGISTRY, "Huber", toy)
    noisy = torch.rand(1, 3, 9, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    setting = Setting(lr=0.5, alpha=1.0)
    fast, fast_losses = denoise.descend(noisy, setting, "Huber", 5, implementation="fast", compile=False)
    reference, reference_losses = denoise.descend(noisy, setting, "Huber", 5, implementation="reference")
    torch.testing.assert_close(fast, reference)
    torch.testing.assert_close(fast_losses, reference_losses)
    assert fast_losses[-1] < fast_losses[0]


def test_a_configured_name_missing_from_its_registry_is_refused_naming_the_setting():
    with pytest.raises(InputError, match="denoise.norms: unknown norm 'L3'; registered norms: L1, L2"):
        norms.check_configured(["L1", "L3"])
    with pytest.raises(InputError, match="train.variants: unknown model variant 'wide'; registered variants: plain"):
        variants.check_configured(["plain", "wide"], "plain")
    with pytest.raises(InputError, match="train.baseline: unknown model variant 'none'"):
        variants.check_configured(["plain"], "none")
    norms.check_configured(list(norms.REGISTRY))
    variants.check_configured(list(variants.REGISTRY), variants.DEFAULT_BASELINE)
