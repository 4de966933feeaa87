"""Checks of command-line values shared by every ``ecosim`` sub-command (one definition each).

``argparse`` turns the ``ArgumentTypeError`` these raise into one ``ecosim CMD: error:`` line and
exit status 2. Model code does not import this module.
"""

from __future__ import annotations

import argparse

MAX_SEED = 2**63 - 1
"""Largest seed: seeds are stored as SQLite integers (signed 64-bit)."""


def positive(name: str):
    """An ``argparse`` type: a whole number of at least 1, named ``name`` in the error."""
    def conv(value: str) -> int:
        try:
            v = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {value!r}") from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {value!r}")
        return v
    return conv


def seed(value: str) -> int:
    """An ``argparse`` type for ``--seed``: a whole number from 0 to :data:`MAX_SEED`."""
    try:
        v = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {value!r}") from None
    if v < 0 or v > MAX_SEED:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer up to 2**63-1, got {value!r}")
    return v
