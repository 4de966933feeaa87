"""Real faults for the tests: a small full file system, a read-only one, processes to kill.

Tests run as root in CI, where ``chmod`` does not stop writes. A user namespace (``unshare -rm``,
no real root needed) lets a test mount a tmpfs of a few KB (a full disk: ENOSPC) or a read-only
one (EROFS) that only the command under test sees. Where user namespaces are not allowed, a
full disk falls back to RLIMIT_FSIZE (EFBIG at the size limit) and a read-only folder to chmod
when not root; otherwise the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
ECOSIM = [sys.executable, "-m", "ecosystem_sim.cli"]
SMALL = ["--set", "n_citizens=600", "--set", "citizens_per_community=100"]


def _probe_unshare() -> bool:
    if not shutil.which("unshare") or not sys.platform.startswith("linux"):
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


HAS_USERNS = _probe_unshare()


def ecosim(*args, cwd=None, env=None, timeout=300, preexec_fn=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*ECOSIM, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=full_env, preexec_fn=preexec_fn)


def in_mounted_tmpfs(mount_point: Path, options: str, args: list, env: dict | None = None):
    """Run ``ecosim ARGS`` with a fresh tmpfs (``options``, e.g. ``size=64k`` or ``ro``) mounted at
    ``mount_point`` in a private mount namespace. Returns (returncode, stderr, names left in it)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    script = ('mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; d="$2"; shift 2; "$@"; rc=$?; '
              'echo "::rc=$rc"; ls -A "$d" | sed "s/^/::ls=/"')
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", options, str(mount_point), *ECOSIM,
                           *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=mount_point.parent)
    assert "::rc=" in proc.stdout, (proc.stdout, proc.stderr)
    rc = int(proc.stdout.split("::rc=")[1].split()[0])
    left = [line[5:] for line in proc.stdout.splitlines() if line.startswith("::ls=")]
    return rc, proc.stderr, left


def assert_one_line(stderr: str, *fragments):
    assert "Traceback" not in stderr, stderr
    lines = [l for l in stderr.strip().splitlines() if not l.startswith("warning:")]
    assert len(lines) == 1, stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def run_in_process(argv, capsys):
    """``ecosim ARGV`` in this process: (exit status, stdout, stderr)."""
    from ecosystem_sim.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err
