"""The model fingerprint: which model made a run.

Finished runs are kept so that an interrupted job resumes (``ecosim compare``'s ``DIR/runs/``,
``ecosim decompose``'s run cache, ``ecosim sweep``'s results store). A kept run may only be
reused by the *same model*: after the package is upgraded or edited (a new mechanism, a changed
lever default), the same command must not mix runs of the old model with runs of the new one.
The fingerprint names the model: a SHA-256 over the package version and the source text of
every module that decides a run's result.

Which modules: every top-level module of the package (``ecosystem_sim/*.py``) except those
listed in :data:`NOT_MODEL` (command line, output folders, reports, glossary, benchmarks,
calibration observables). So ``model.py``, ``agents.py``, ``innovation.py``, ``diffusion.py``,
``population.py``, ``measures.py``, ``shocks.py``, ``scenario.py``, ``levers.py`` (the lever
table, so its defaults) and ``run.py`` (``run_one`` and the summary of a run) are hashed, and
a module added to the package later is hashed too unless it is listed as not deciding results
(the safe direction: at worst a kept run is recomputed). The subpackages (``experiments``,
``viz``, ``calibration``) are not model code and are not hashed. Line endings are normalised,
so a checkout with CRLF line ends has the same fingerprint.

The files are read through :mod:`importlib.resources`, so the fingerprint is the same from a
checkout and from an installed package. It is computed once per process.

Model code: imports nothing from the experiment or dashboard layers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE = "ecosystem_sim"

NOT_MODEL = frozenset({
    "__init__.py",     # lazy imports of the public names
    "__main__.py",     # ``python -m ecosystem_sim``
    "bench.py",        # benchmarks
    "cli.py",          # command line
    "cliargs.py",      # command-line argument types
    "compare.py",      # tables and figures from kept runs (recomputed every time from the runs)
    "fingerprint.py",  # this module
    "glossary.py",     # words of the reports
    "guards.py",       # output folders, locks, limits
    "observables.py",  # what calibration compares with data; runs do not read it
    "reporting.py",    # Markdown and HTML reports
})
"""Top-level modules that do not decide a run's result (everything else is hashed)."""

DIGITS = 16
"""Hex digits kept of the SHA-256 (64 bits: no two model versions collide in practice)."""


def model_modules(root: Traversable | Path) -> list[str]:
    """File names of the modules hashed in the package folder ``root`` (sorted)."""
    return sorted(f.name for f in root.iterdir()
                  if f.name.endswith(".py") and f.is_file() and f.name not in NOT_MODEL)


def fingerprint_of(root: Traversable | Path, version: str) -> str:
    """Fingerprint of the model whose package folder is ``root`` with package version ``version``:
    the first :data:`DIGITS` hex digits of a SHA-256 over the version and, for each hashed module
    in name order, its name and its source text (line ends normalised)."""
    h = hashlib.sha256(f"{PACKAGE} {version}\n".encode())
    for name in model_modules(root):
        text = (root / name).read_bytes().replace(b"\r\n", b"\n")
        h.update(f"\0{name}\0{len(text)}\0".encode())
        h.update(text)
    return h.hexdigest()[:DIGITS]


@lru_cache(maxsize=1)
def _installed() -> str:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return fingerprint_of(resources.files(PACKAGE), version)


def model_fingerprint() -> str:
    """Fingerprint of the model this process runs (computed once per process, then cached)."""
    return _installed()
