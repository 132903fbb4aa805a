"""What the summary page says about how the run was made: config, seed, devices, versions, input checksums."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import platform
import socket
from pathlib import Path

import yaml

from .fetch import file_digest
from .io import write_json

PACKAGES = ("torch", "torchvision", "numpy", "pillow", "matplotlib", "snakemake")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def input_checksums(inputs: dict[str, str], sources: dict[str, str | None]) -> dict[str, dict]:
    """sha256 of each prepared input, with the source it was made from."""
    return {name: {"path": path, "sha256": file_digest(path, "sha256"), "source": sources.get(name)}
            for name, path in inputs.items()}


def devices_used(device_files: list[str]) -> list[str]:
    """The devices the stages recorded (a ``device`` key in their JSON summaries), in order, without repeats."""
    devices = []
    for path in device_files:
        device = json.loads(Path(path).read_text()).get("device")
        if device and device not in devices:
            devices.append(device)
    return devices


def write_run_info(target: str | Path, config: dict, inputs: dict[str, str], sources: dict[str, str | None],
                   device_files: list[str]) -> dict:
    info = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "config": config,
        "config_yaml": yaml.safe_dump(config, sort_keys=False),
        "devices": devices_used(device_files),
        "versions": package_versions(),
        "inputs": input_checksums(inputs, sources),
    }
    write_json(target, info)
    return info
