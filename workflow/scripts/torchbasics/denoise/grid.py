"""The denoising grid: every (lr, alpha) setting, lr by lr and alpha within lr (a contact sheet's rows and
columns), and the name of each setting's image. Torch-free: the workflow reads it to declare the images."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    lr: float
    alpha: float

    @property
    def image_name(self) -> str:
        return f"lr{self.lr}_alpha{self.alpha}.png"


def grid_settings(lrs: list[float], alphas: list[float]) -> list[Setting]:
    """Every (lr, alpha) pair in grid order."""
    return [Setting(float(lr), float(alpha)) for lr in lrs for alpha in alphas]
