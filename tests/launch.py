"""The one way the tests start Snakemake.

Importing Snakemake takes seconds, longer than most of the dry runs the tests ask for, so every run is a fork of a
server process that has imported it once (multiprocessing's forkserver, which forks from a clean process, not from
the test process with its threads). Each run gets its own process, working directory, environment, output files
and exit status, as a `snakemake` command on the shell would.
"""

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

_SERVER = multiprocessing.get_context("forkserver")
_SERVER.set_forkserver_preload(["snakemake.cli", "launch"])


def _snakemake_main(args: list[str], cwd: str, env: dict[str, str], stdout: str, stderr: str) -> None:
    """The child: Snakemake's command-line entry point with the caller's directory, environment and output files,
    in a process group of its own (so that a test can kill it with its jobs, as a shell's Ctrl-C or a time limit
    would)."""
    os.setsid()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, stdout), (2, stderr)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    sys.argv = ["snakemake", *args]
    from snakemake.cli import main

    main(args)


def start(*args: str, cwd: Path, output: Path, env: dict[str, str] | None = None):
    """Start `snakemake ARGS` in ``cwd`` (stdout to ``output``.out, stderr to ``output``.err); return the process
    (a ``multiprocessing.Process``: ``pid`` is its process group's id too)."""
    process = _SERVER.Process(
        target=_snakemake_main,
        args=(list(args), str(cwd), dict(os.environ if env is None else env), f"{output}.out", f"{output}.err"),
    )
    process.start()
    return process


def snakemake(*args: str, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `snakemake ARGS` in ``cwd`` to its end; its exit status and output, as ``subprocess.run`` gives them."""
    with tempfile.TemporaryDirectory(prefix="snakemake-output-") as folder:
        output = Path(folder) / "snakemake"
        process = start(*args, cwd=cwd, output=output, env=env)
        process.join(timeout)
        if process.is_alive():
            os.killpg(process.pid, signal.SIGKILL)
            process.join()
            raise subprocess.TimeoutExpired(["snakemake", *args], timeout)
        stdout, stderr = (Path(f"{output}{suffix}").read_text() for suffix in (".out", ".err"))
    return subprocess.CompletedProcess(["snakemake", *args], process.exitcode, stdout, stderr)
