"""The config as the workflow reads it: where each source is configured, the run-wide choices that stages
inherit, and the checks a JSON schema cannot express. Run once at start-up by ``workflow/rules/common.smk``.

Imports nothing heavy (no torch), since Snakemake runs it on every invocation, dry runs included.
"""

from __future__ import annotations

import copy
import os
import re
import urllib.parse
from pathlib import Path

from torchbasics.core.errors import InputError
from torchbasics.core.fetch import is_url

# Every fetched input by name (a download's file name and the jobs' wildcard), with where ``data`` configures it.
SOURCES = {"cifar10": ("cifar10",), "parrot_noisy": ("parrot", "noisy"), "parrot_clean": ("parrot", "clean")}

# Run-wide choices that a stage may override, by stage; a stage's null (or nothing) takes the run's choice.
STAGE_CHOICES = {
    "autograd": ("device",),
    "denoise": ("device", "implementation"),
    "train": ("device", "implementation"),
    "eval": ("device", "implementation"),
}

# ------------------------------------------------------------------- how a setting reaches a job
#
# The one rule: a setting that changes the numbers a job writes travels as a rule param, so that changing it
# reruns the job (and what depends on it); a setting that cannot change them is read by the job from the config
# (``snakemake.config``), so that changing it reruns nothing. The settings of the second kind, each with why it
# changes no result; every other setting of a stage is of the first kind (``shaping_settings``).
NOT_SHAPING_RESULTS = {
    "device": "where torch computes: the same computation elsewhere differs by rounding at most, and every output "
    "records the device (and GPU) it ran on",
    "variants": "which networks are trained: adding one must not retrain the others",
    "baseline": "the network the others are compared with: only the comparison rules read it, as a param of their own",
    "download": "how inputs are fetched (retries, time-out): the same bytes arrive, checked against their checksum",
    "checksum": "what a fetched input must hash to: a new one reruns the input's check (rule verify_source), "
    "which passes or stops the run, never the download or what is made from the file",
}


def shaping_settings(stage_config: dict) -> dict:
    """A stage's settings that change its numbers, for a rule's params (see ``NOT_SHAPING_RESULTS``)."""
    return {key: value for key, value in stage_config.items() if key not in NOT_SHAPING_RESULTS}


def job_setting(config: dict, stage: str, name: str):
    """A setting a job reads from the config rather than its params; only those of ``NOT_SHAPING_RESULTS``."""
    if name not in NOT_SHAPING_RESULTS:
        raise ValueError(f"{stage}.{name} shapes results: it reaches the job as a rule param, not from the config")
    return config[stage][name]


# How many seeds there are: NumPy's global generator (seeded with every run's seed) takes 0 to 2**32 - 1, the
# schema's maximum of ``seed`` and ``seeds``.
SEED_COUNT = 2**32


def seeds_from(seed: int, count: int) -> list[int]:
    """``count`` seeds from ``seed`` on, wrapping from the largest seed to 0, so that each is one the schema takes."""
    return [(seed + offset) % SEED_COUNT for offset in range(count)]


def _lookup(tree: dict, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def setting_value(config: dict, setting: str):
    """The value of a dotted setting such as ``data.parrot.noisy.checksum`` (None where a level is unset)."""
    return _lookup(config, tuple(setting.split(".")))


def source_setting(name: str, key: str = "source") -> str:
    """The dotted setting of a source's ``key``, such as ``data.parrot.noisy.checksum``."""
    return ".".join(("data", *SOURCES[name], key))


def configured_sources(config: dict) -> dict[str, dict]:
    """The config entry ({source, checksum}) of every source the config gives (the clean parrot is optional)."""
    entries = {name: _lookup(config["data"], keys) for name, keys in SOURCES.items()}
    return {name: entry for name, entry in entries.items() if entry is not None}


def configured_checksum(config: dict, name: str) -> tuple[str | None, str]:
    """A source's checksum in the config (None: no check) and the setting that holds it, for error messages."""
    setting = source_setting(name, "checksum")
    return setting_value(config, setting), setting


def inherit_run_choices(config: dict) -> None:
    """Give every stage that leaves a run-wide choice (``device``, ``implementation``) at null the run's value."""
    for stage, choices in STAGE_CHOICES.items():
        for choice in choices:
            if config[stage].get(choice) is None:
                config[stage][choice] = config[choice]


def drop_stale_checksums(config: dict, defaults: dict) -> list[str]:
    """Forget the default checksum of a source the user replaced without giving a new checksum.

    config.yaml pins the checksum of each default download. A user who points ``data.cifar10.source`` at
    their own file (say, from the command line) and says nothing of the checksum means "this file", not
    "this file, which must also hash like the official archive"; keeping the old checksum would only fail.
    Returns the dotted keys whose checksum was dropped, so the Snakefile can say so.
    """
    dropped = []
    for name, entry in configured_sources(config).items():
        default = _lookup(defaults.get("data", {}), SOURCES[name])
        if default is None:
            continue
        if entry["source"] != default["source"] and entry.get("checksum") == default.get("checksum"):
            entry["checksum"] = None
            dropped.append(source_setting(name, "checksum"))
    return dropped


# Folders the pipeline owns as a whole: whatever is in them may be rewritten or deleted by a job.
PIPELINE_FOLDERS = ("results", "logs")


def check_sources_are_not_outputs(config: dict, is_pipeline_product, workdir: str | Path) -> None:
    """Refuse a local source that the pipeline itself writes (``is_pipeline_product(relative path)``).

    Such a source makes a job's input its own output: Snakemake then schedules the job anyway, and a failing
    job's outputs are deleted, which here is the user's file. Refused at start-up, before any job runs.
    """
    for name, entry in configured_sources(config).items():
        relative = _path_inside(_local_path(entry["source"]), Path(workdir))
        if relative is not None and (relative.parts[0] in PIPELINE_FOLDERS or is_pipeline_product(relative.as_posix())):
            setting = source_setting(name)
            raise InputError(
                f"config {setting} = {entry['source']!r} is the pipeline's own output {relative.as_posix()}: a job "
                f"would overwrite or delete it. Copy the file outside resources/, results/ and logs/ and point "
                f"{setting} at the copy."
            )


# What Snakemake reads in a file path as its own syntax: a wildcard ({name}) or a path variable (<name>).
SNAKEMAKE_PATH_SYNTAX = re.compile(r"[{}<>]")


def check_local_paths_are_plain(config: dict, workdir: str | Path) -> None:
    """Refuse a local path that Snakemake would read as a pattern, suggesting the same file as a file:// URL.

    A job's input is a pattern to Snakemake: '{x}' in it is a wildcard (a WildcardError at start-up) and '<x>' a
    path variable. A URL is downloaded by a job instead of being an input, and percent-encodes these characters.
    """
    for name, entry in configured_sources(config).items():
        source = entry["source"]
        if not is_url(source) and SNAKEMAKE_PATH_SYNTAX.search(source):
            url = (Path(workdir) / source).absolute().as_uri()
            raise InputError(
                f"config {source_setting(name)} = {source!r}: Snakemake reads '{{...}}' in a file path as a wildcard "
                f"and '<...>' as a path variable, so it cannot take this path. Give the same file as a file:// URL: "
                f"{url}"
            )


def _local_path(source: str) -> str | None:
    """The file a source names on this machine: a path, or a file:// URL's path; None for http(s)."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    return source


def _path_inside(path: str | None, folder: Path) -> Path | None:
    """``path`` relative to ``folder`` (links resolved), or None if it lies outside it."""
    if path is None:
        return None
    resolved, base = Path(os.path.realpath(folder / path)), Path(os.path.realpath(folder))
    try:
        relative = resolved.relative_to(base)
    except ValueError:
        return None
    return relative if relative.parts else None


def finish_config(config: dict, defaults: dict) -> list[str]:
    """After the schema's validation: the checks it cannot make, stale checksums dropped, run-wide choices
    inherited. ``defaults`` is config.yaml as shipped. Returns the checksum settings dropped, to be reported."""
    check_split(config["split"])
    dropped = drop_stale_checksums(config, defaults)
    inherit_run_choices(config)
    if config.get("seeds") is None:
        config["seeds"] = [config["seed"]]
    return dropped


def settings_that_shape_results(config: dict) -> dict:
    """The completed config without the settings that change no result, keys sorted: the page's config block.

    Left out: where torch computes (the run-wide and each stage's ``device``; the page lists the devices used, from
    the run's files), how downloads are made (``data.download``) and the checksums (the page gives each input's own
    sha256). Changing these reruns no job that makes a result, so a page that printed them would show stale values.
    Every setting left in is a param of rule run_info, so that a change of any of them rewrites the page. The keys
    are sorted so that the same settings given in another order are the same params.
    """
    shown = copy.deepcopy(config)
    shown.pop("device", None)
    for stage in STAGE_CHOICES:
        shown.get(stage, {}).pop("device", None)
    shown["data"].pop("download", None)
    for entry in configured_sources(shown).values():
        entry.pop("checksum", None)
    return _with_sorted_keys(shown)


def _with_sorted_keys(tree):
    if isinstance(tree, dict):
        return {key: _with_sorted_keys(tree[key]) for key in sorted(tree)}
    if isinstance(tree, list):
        return [_with_sorted_keys(item) for item in tree]
    return tree


def check_split(split: dict) -> None:
    """Each split given a non-empty range, no two overlapping (the npz's size is checked where it is read).

    A job that reads some of the splits gets only those (so that changing another does not rerun it).
    """
    ranges = {}
    for name in ("train", "val", "test"):
        if name not in split:
            continue
        start, stop = split[name]
        if start >= stop:
            raise InputError(f"config split.{name} = [{start}, {stop}] is empty: start must be below stop")
        ranges[name] = (start, stop)
    ordered = sorted(ranges.items(), key=lambda item: item[1])
    for (first, (_, first_stop)), (second, (second_start, _)) in zip(ordered, ordered[1:]):
        if second_start < first_stop:
            raise InputError(f"config split.{first} and split.{second} overlap")


# A number as people write it, YAML 1.2's core schema: YAML 1.1 (PyYAML) wants a '.' and a signed exponent, so it
# reads the learning rate 3e-4 (and 1E-5) as a string.
FLOAT_PATTERN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# YAML's ways of writing null, which Snakemake's reading of a nested --config value leaves as text.
NULL_WORDS = ("", "~", "null", "Null", "NULL")


# -------------------------------------------------------------------- values typed where the schema asks


def type_values_as_the_schema_asks(config: dict, schema_path: str | Path) -> list[str]:
    """Numbers where the config schema (and the stage schemas it refers to) asks for a number, null where it allows
    null; returns the dotted keys changed.

    Snakemake reads a nested ``--config key={...}`` value with YAML's base loader, which leaves every leaf a string
    ('0', 'null'), and a config file with YAML 1.1, which leaves 3e-4 a string. Only these positions are touched:
    re-reading every string as YAML would also change a quoted path ('#' starts a comment, ': ' a mapping, a
    newline folds to a space), so a source or a checksum stays exactly the text given.
    """
    import yaml

    schema_path = Path(schema_path)
    types = value_types(yaml.safe_load(schema_path.read_text()), schema_path.parent)
    nullable = [path for path, allowed in types.items() if "null" in allowed]
    return normalise_nulls(config, nullable) + normalise_numbers(config, numeric_positions_of(types))


def value_types(schema: dict, schema_folder: Path) -> dict[tuple, set[str]]:
    """The JSON types the config schema allows at each key path (a '*' for any list item), null included where
    an enum or a conditional branch allows it."""
    positions: dict[tuple, set[str]] = {}
    _collect_types(schema, schema, Path(schema_folder), (), positions)
    return positions


def numeric_positions(schema: dict, schema_folder: Path) -> dict[tuple, str]:
    """Where the config schema asks for a number: {key path (a '*' for any list item): 'integer' or 'number'}."""
    return numeric_positions_of(value_types(schema, schema_folder))


def numeric_positions_of(types: dict[tuple, set[str]]) -> dict[tuple, str]:
    return {
        path: "integer" if "integer" in allowed else "number"
        for path, allowed in types.items()
        if allowed & {"integer", "number"}
    }


# Subschemas that say what a value may be at the same key path ('if' only tests it).
ALTERNATIVES = ("then", "else")
ALTERNATIVE_LISTS = ("anyOf", "oneOf", "allOf")


def _collect_types(node: dict, document: dict, folder: Path, path: tuple, positions: dict) -> None:
    if "$ref" in node:
        node, document = _resolve(node["$ref"], document, folder)
    types = node.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    if None in node.get("enum", []):
        types.add("null")
    positions.setdefault(path, set()).update(types)
    branches = [node[key] for key in ALTERNATIVES if key in node]
    branches += [branch for key in ALTERNATIVE_LISTS for branch in node.get(key, [])]
    for branch in branches:
        _collect_types(branch, document, folder, path, positions)
    for key, child in node.get("properties", {}).items():
        _collect_types(child, document, folder, (*path, key), positions)
    if isinstance(node.get("items"), dict):
        _collect_types(node["items"], document, folder, (*path, "*"), positions)


def _resolve(reference: str, document: dict, folder: Path) -> tuple[dict, dict]:
    """The node a '$ref' names: '#/definitions/x' in this document or 'other.schema.yaml#/definitions/x'."""
    import yaml

    file_name, _, pointer = reference.partition("#")
    if file_name:
        document = yaml.safe_load((folder / file_name).read_text())
    node = document
    for part in pointer.strip("/").split("/"):
        if part:
            node = node[part]
    return node, document


def normalise_nulls(config: dict, positions: list[tuple]) -> list[str]:
    """Read YAML's null words left as text ('null', '~', '') as None where the schema allows null; returns the
    dotted keys changed. Where a position also takes text (a checksum), its pattern or enum admits none of these
    words, so no valid text is lost."""
    changed = []
    for path in positions:
        for keys, value in _values_at(config, path, ()):
            if isinstance(value, str) and value.strip() in NULL_WORDS:
                _set(config, keys, None)
                changed.append(".".join(map(str, keys)))
    return changed


def normalise_numbers(config: dict, positions: dict[tuple, str]) -> list[str]:
    """Read the numbers a YAML 1.1 loader left as text ('3e-4') and whole floats where an integer is asked (2.0).

    Only positions the schema types as numbers are touched, so a checksum or a path stays text whatever it
    looks like. Returns the dotted keys changed.
    """
    changed = []
    for path, kind in positions.items():
        for keys, value in _values_at(config, path, ()):
            number = _as_number(value, kind)
            if number is not value:
                _set(config, keys, number)
                changed.append(".".join(map(str, keys)))
    return changed


def _values_at(tree, path: tuple, keys: tuple):
    if not path:
        yield keys, tree
        return
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from _values_at(item, rest, (*keys, index))
    elif isinstance(tree, dict) and head in tree:
        yield from _values_at(tree[head], rest, (*keys, head))


def _as_number(value, kind: str):
    if isinstance(value, str) and FLOAT_PATTERN.fullmatch(value.strip()):
        value = float(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)  # JSON schema's integer accepts 2.0, but range(), slices and tensors do not
    return value


def _set(tree, keys: tuple, value) -> None:
    for key in keys[:-1]:
        tree = tree[key]
    tree[keys[-1]] = value
