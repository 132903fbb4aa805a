"""Checks of the config that a JSON schema cannot express, run once at start-up by the Snakefile.

Imports nothing heavy (no torch), since the Snakefile runs it on every invocation, dry runs included.
"""

from __future__ import annotations

from .errors import InputError

SOURCE_KEYS = (("cifar10",), ("parrot", "noisy"), ("parrot", "clean"))


def _lookup(tree: dict, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def drop_stale_checksums(config: dict, defaults: dict) -> list[str]:
    """Forget the default checksum of a source the user replaced without giving a new checksum.

    config.yaml pins the checksum of each default download. A user who points ``data.cifar10.source`` at
    their own file (say, from the command line) and says nothing of the checksum means "this file", not
    "this file, which must also hash like the official archive"; keeping the old checksum would only fail.
    Returns the dotted keys whose checksum was dropped, so the Snakefile can say so.
    """
    dropped = []
    for keys in SOURCE_KEYS:
        entry = _lookup(config["data"], keys)
        default = _lookup(defaults.get("data", {}), keys)
        if entry is None or default is None:
            continue
        if entry["source"] != default["source"] and entry.get("checksum") == default.get("checksum"):
            entry["checksum"] = None
            dropped.append("data." + ".".join(keys) + ".checksum")
    return dropped


def check_split(split: dict) -> None:
    """Each split a non-empty range, no two overlapping (the npz's size is checked when it is prepared)."""
    ranges = {}
    for name in ("train", "val", "test"):
        start, stop = split[name]
        if start >= stop:
            raise InputError(f"config split.{name} = [{start}, {stop}] is empty: start must be below stop")
        ranges[name] = (start, stop)
    ordered = sorted(ranges.items(), key=lambda item: item[1])
    for (first, (_, first_stop)), (second, (second_start, _)) in zip(ordered, ordered[1:]):
        if second_start < first_stop:
            raise InputError(f"config split.{first} and split.{second} overlap")


def typed_overrides(overrides):
    """``--config`` values with YAML types, as they would have in a config file.

    Snakemake parses a nested ``--config key={...}`` value with YAML's base loader, which leaves every leaf a
    string ('0', 'null'); the schema would then refuse ``split={train: [0, 4000], ...}``. Leaves are re-read
    with the safe loader so that numbers are numbers and null is None.
    """
    import yaml

    if isinstance(overrides, dict):
        return {key: typed_overrides(value) for key, value in overrides.items()}
    if isinstance(overrides, list):
        return [typed_overrides(value) for value in overrides]
    if isinstance(overrides, str):
        try:
            return yaml.safe_load(overrides) if overrides.strip() else overrides
        except yaml.YAMLError:
            return overrides
    return overrides
