"""Scenario files shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two small scenarios that differ in two policy levers (region of 300 citizens)."""
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(f'name = "a"\ninherits = "{SCENARIOS / "citizen_led.toml"}"\n\n[region]\ncitizens_per_community = 100\n')
    b.write_text(f'name = "b"\ninherits = "{a}"\n\n[policy]\nshare_wage_subsidy = 0.5\nshare_education = 0.0\n')
    return a, b
