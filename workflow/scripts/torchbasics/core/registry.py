"""Looking a name up in one of the registries (the CNN variants, the denoising norms): an unknown name is refused
with the registered ones, and a configured one with the setting that names it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from torchbasics.core.errors import InputError

Entry = TypeVar("Entry")


def registered(registry: Mapping[str, Entry], name: str, kind: str, kinds: str) -> Entry:
    """``registry[name]``; an unknown name is refused naming the ``kind`` and every registered one of the ``kinds``."""
    if name not in registry:
        raise InputError(f"unknown {kind} {name!r}; registered {kinds}: {', '.join(registry)}")
    return registry[name]


def check_configured(registry: Mapping[str, object], named: Iterable[tuple[str, str]], kind: str, kinds: str) -> None:
    """Refuse the first (setting, name) of ``named`` whose name is not registered, the setting first."""
    for setting, name in named:
        try:
            registered(registry, name, kind, kinds)
        except InputError as error:
            raise InputError(f"{setting}: {error}") from None
