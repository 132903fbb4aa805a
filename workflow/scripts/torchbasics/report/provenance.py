"""What the summary page says about how the run was made: config, seed, hardware, devices, precision and threads,
versions, input checksums. The hardware, the precision and the thread count are what decide whether a rerun of
the same config gives the same numbers bit for bit."""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import socket
from pathlib import Path

import yaml

from torchbasics.autograd.autograd_files import read_summary
from torchbasics.classifier.evaluation_files import read_metrics
from torchbasics.core.fetch import file_digest
from torchbasics.core.io import read_record, write_record

PACKAGES = ("torch", "torchvision", "numpy", "pillow", "matplotlib", "snakemake")
# run_info.json (``write_run_info``), which the page's "How this run was made" prints.
RUN_INFO_FIELDS = (
    "created",
    "host",
    "config",
    "config_yaml",
    "devices",
    "gpus",
    "hardware",
    "training",
    "versions",
    "inputs",
)


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
    return {
        name: {"path": path, "sha256": file_digest(path, "sha256"), "source": sources.get(name)}
        for name, path in inputs.items()
    }


def cpu_model() -> str:
    """The CPU's model name as the operating system reports it (``platform.processor()`` is often just "x86_64")."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def hardware() -> dict:
    """The machine that wrote the run info (on a workstation, the one that ran every job)."""
    from torchbasics.core.precision import cpu_bfloat16_units

    return {"machine": platform.machine(), "cpu": cpu_model(), "cpu_bfloat16_units": cpu_bfloat16_units()}


def training_conditions(evaluations: list[dict]) -> list[dict]:
    """How each evaluated network was trained (device, its GPU, precision, torch threads), from evaluation's
    metrics."""
    conditions = []
    for metrics in evaluations:
        conditions.append(
            {"variant": metrics["variant"]}
            | {key: metrics[f"training_{key}"] for key in ("seed", "device", "precision", "threads")}
            | {"gpu": metrics.get("training_gpu")}
        )
    return conditions


def gpus_used(records: list[dict]) -> list[dict]:
    """The GPUs the stages recorded (``gpu`` and ``training_gpu`` in their JSON records: name, compute
    capability, UUID, driver, CUDA and cuDNN versions), in order, without repeats; [] for a run on the CPU."""
    gpus = []
    for recorded in records:
        for gpu in (recorded.get("gpu"), recorded.get("training_gpu")):
            if gpu and gpu not in gpus:
                gpus.append(gpu)
    return gpus


def devices_used(records: list[dict]) -> list[str]:
    """The devices the stages recorded (a ``device`` key in their JSON records), in order, without repeats."""
    devices = []
    for recorded in records:
        device = recorded.get("device")
        if device and device not in devices:
            devices.append(device)
    return devices


def write_run_info(
    target: str | Path,
    config: dict,
    inputs: dict[str, str],
    sources: dict[str, str | None],
    *,
    autograd_summary: str,
    eval_metrics: list[str],
) -> dict:
    evaluations = [read_metrics(path) for path in eval_metrics]
    records = [read_summary(autograd_summary), *evaluations]
    info = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "config": config,
        "config_yaml": yaml.safe_dump(config, sort_keys=False),
        "devices": devices_used(records),
        "gpus": gpus_used(records),
        "hardware": hardware(),
        "training": training_conditions(evaluations),
        "versions": package_versions(),
        "inputs": input_checksums(inputs, sources),
    }
    write_record(target, info, RUN_INFO_FIELDS)
    return info


def read_run_info(path) -> dict:
    return read_record(path, RUN_INFO_FIELDS, "a run's provenance (run_info.json)")
