"""Choosing the training precision from the hardware, and the autocast context it gives."""

import pytest
import torch

from torchbasics.core import precision
from torchbasics.core.errors import InputError


@pytest.fixture
def cpu_units(monkeypatch):
    """Pretend the CPU has the bfloat16 units given to the returned setter."""

    def set_units(amx: bool, avx512_bf16: bool):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)

    return set_units


@pytest.mark.parametrize(
    "amx, avx512_bf16, expected",
    [(True, True, "bfloat16"), (False, True, "bfloat16"), (True, False, "bfloat16"), (False, False, "float32")],
)
def test_auto_takes_bfloat16_only_on_a_cpu_with_bfloat16_units(cpu_units, amx, avx512_bf16, expected):
    cpu_units(amx, avx512_bf16)
    assert precision.resolve_precision("auto", "cpu") == expected


@pytest.mark.parametrize("capability, expected", [((8, 0), "bfloat16"), ((9, 0), "bfloat16"), ((7, 5), "float32")])
def test_auto_on_cuda_follows_the_compute_capability(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert precision.resolve_precision("auto", "cuda:0") == expected


def test_an_explicit_choice_is_kept_and_emulation_is_warned_about(cpu_units, caplog):
    cpu_units(False, False)
    assert precision.resolve_precision("float32", "cpu") == "float32"
    assert precision.resolve_precision("bfloat16", "cpu") == "bfloat16"
    assert "torch emulates it" in caplog.text


def test_a_cpu_without_the_checks_counts_as_without_units(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    assert precision.cpu_bfloat16_units() == []


def test_an_unknown_precision_is_refused():
    with pytest.raises(InputError, match="unknown precision 'half'"):
        precision.resolve_precision("half", "cpu")


def test_autocast_runs_the_forward_pass_in_the_chosen_precision():
    layer = torch.nn.Linear(4, 2)
    inputs = torch.ones(3, 4)
    with precision.autocast("bfloat16", "cpu"):
        assert layer(inputs).dtype == torch.bfloat16
    with precision.autocast("float32", "cpu"):
        assert layer(inputs).dtype == torch.float32
