"""Shared helpers of the experiment tests: a tiny experiment (small region, few months)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"

TINY = f"""
name = "tiny"
base = "{SCENARIOS / 'citizen_led.toml'}"
presets = ["{SCENARIOS / 'job_creation.toml'}", "{SCENARIOS / 'citizen_led.toml'}"]
replications = 2
seed = 11
steps = 30
measures = ["jobs_total", "orgs_alive", "need_met_share"]

[overrides]
n_citizens = 500

[levers.safety_net]
values = [0.0, 1.0]

[[shocks]]
kind = "budget_cut"
step = 12
strength = 0.6
"""


def read(folder: Path, sql: str) -> pd.DataFrame:
    con = sqlite3.connect(folder / "results.sqlite")
    try:
        return pd.read_sql(sql, con)
    finally:
        con.close()
