"""Sources given as a URL (https, http, file) or a local path: download with retries, verify, write atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from torchbasics.core.errors import InputError
from torchbasics.core.io import atomic_path

log = logging.getLogger(__name__)

URL_SCHEMES = ("http", "https", "file")
CHECKSUM_ALGORITHMS = {"md5": 32, "sha256": 64}


def is_url(source: str) -> bool:
    """True for http(s) and file URLs; anything else is taken as a local path."""
    return urllib.parse.urlparse(source).scheme in URL_SCHEMES


def parse_checksum(checksum: str) -> tuple[str, str]:
    """Split ``"md5:<hex>"`` or ``"sha256:<hex>"`` into (algorithm, lower-case hex digest)."""
    algorithm, _, digest = checksum.partition(":")
    digest = digest.lower()
    expected_length = CHECKSUM_ALGORITHMS.get(algorithm)
    if expected_length is None or len(digest) != expected_length or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(f"malformed checksum {checksum!r}: expected 'md5:<32 hex>' or 'sha256:<64 hex>'")
    return algorithm, digest


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: str | os.PathLike, checksum: str | None, setting: str = "checksum") -> str | None:
    """Raise ``InputError`` if ``path`` does not match ``checksum``; return the checksum verified (or None).

    ``setting`` names the config key in the message, so the user knows what to change.
    """
    if not checksum:
        return None
    algorithm, expected = parse_checksum(checksum)
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise InputError(
            f"checksum mismatch for {path}: {algorithm} is {actual}, but {setting} expects {expected}. "
            f"The file is corrupt or truncated, or it is a different file: fetch it again, or set {setting} to "
            f"the new file's checksum (or null) if you changed the source on purpose."
        )
    return f"{algorithm}:{actual}"


def fetch(
    source: str,
    target: str | os.PathLike,
    checksum: str | None = None,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 2.0,
    setting: str = "source",
) -> Path:
    """Copy ``source`` (URL or local path) to ``target``, verify ``checksum``, and only then publish it.

    Transient network errors are retried ``retries`` times with exponential back-off; a checksum mismatch
    is not retried (the server would send the same bytes). On failure nothing is left at ``target``.
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        if is_url(source):
            _download_with_retries(source, tmp, retries=retries, timeout=timeout, backoff=backoff, setting=setting)
        else:
            _copy_local(source, tmp, setting=setting)
        verify_checksum(tmp, checksum, setting=setting.rsplit(".", 1)[0] + ".checksum")
    log.info("fetched %s -> %s (%d bytes)", source, target, target.stat().st_size)
    return target


def _copy_local(source: str, tmp: Path, setting: str) -> None:
    if not os.path.isfile(source):
        raise InputError(f"{setting}: local file {source!r} does not exist (or is not a file)")
    shutil.copyfile(source, tmp)


def _download_with_retries(url: str, tmp: Path, *, retries: int, timeout: float, backoff: float, setting: str) -> None:
    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        try:
            _download_once(url, tmp, timeout)
            return
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            if isinstance(error, urllib.error.HTTPError) and 400 <= error.code < 500:
                attempts = attempt  # a client error (404, 403) will not change on retry
            if attempt >= attempts:
                raise InputError(
                    f"could not download {url} ({_describe(error)}) after {attempt} attempt(s). If this machine "
                    f"is offline, download the file elsewhere and point the pipeline at it: "
                    f"--config {nested_override(setting, '/path/to/file')} (a local path or a file:// URL)."
                ) from error
            delay = backoff * 2 ** (attempt - 1)
            log.warning(
                "download of %s failed (%s); retry %d/%d in %.0fs", url, _describe(error), attempt, attempts - 1, delay
            )
            time.sleep(delay)


def nested_override(setting: str, value: str) -> str:
    """``--config`` syntax for a dotted setting, as Snakemake 9 takes it: a YAML mapping, quoted for the shell.

    Snakemake 9 refuses dotted keys (``data.parrot.noisy.source=...``) on the command line.
    """
    top, *rest = setting.split(".")
    nested = value
    for key in reversed(rest):
        nested = f"{{{key}: {nested}}}"
    return f"'{top}={nested}'"


def _download_once(url: str, tmp: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "torchbasics-pipeline"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
        expected = response.headers.get("Content-Length")
        shutil.copyfileobj(response, out, length=1 << 20)
    if expected is not None and tmp.stat().st_size != int(expected):
        raise OSError(f"connection closed early: got {tmp.stat().st_size} of {expected} bytes")


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__
