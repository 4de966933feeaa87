"""`ecosim analyze`'s report: tables keep their columns whatever the labels hold, every requested
output appears in the report and the heat map, and the command counts the tables it wrote."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ecosystem_sim.experiments import load_experiment, sweep
from ecosystem_sim.experiments import figures as figs
from ecosystem_sim.experiments.analysis import load_results, outcomes
from ecosystem_sim.reporting import split_row

from exp_helpers import TINY

OUTPUTS = ["resilience.jobs_total.integrated_loss", "resilience.orgs_alive.integrated_loss", "final.need_met_share",
           "final.jobs_self_sustaining", "diffusion.mean.final_share"]
GRID = TINY.replace("replications = 2", "replications = 3") + """
[levers.commons_share]
values = [0.0, 1.0]

[analysis]
outputs = [""" + ", ".join(f'"{o}"' for o in OUTPUTS) + "]\n"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("report")
    path = folder / "grid.toml"
    path.write_text(GRID)
    out = folder / "out"
    sweep(load_experiment(path), out, progress=False)
    proc = subprocess.run([sys.executable, "-m", "ecosystem_sim.cli", "analyze", str(out)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def _table(report: str, heading: str) -> list[list[str]]:
    """The rows (cells split on unescaped |) of the first table after ``heading``."""
    part = report[report.index(heading):]
    rows = []
    for line in part.splitlines()[1:]:
        if line.startswith("|"):
            rows.append(split_row(line))
        elif rows:
            break
    return rows


def test_points_table_keeps_each_value_in_its_column(analysed):
    out, _ = analysed
    report = (out / "report.md").read_text()
    rows = _table(report, "## Means per design point")
    header, body = rows[0], rows[2:]
    assert header[:2] == ["design point", "runs ok"]
    assert len(body) == 8                                     # 2 presets x 2 x 2 lever values
    for row in body:
        assert len(row) == len(header), row
        assert " | " in row[0] and "budget_cut@12" in row[0]   # the label, pipes and all, in one cell
        assert row[1] == "3"                                  # runs ok: a count, not a shock name
        for cell in row[2:]:
            assert re.fullmatch(r"-?[\d.e+-]+( \[-?[\d.e+-]+, -?[\d.e+-]+\])?|n/a", cell), cell
    # the same holds in the HTML report
    html = (out / "report.html").read_text()
    assert "job_creation | budget_cut@12:0.6 | safety_net=0 | commons_share=0</td>" in html


def test_every_requested_output_is_in_report_and_heatmap(analysed, monkeypatch):
    out, _ = analysed
    report = (out / "report.md").read_text()
    header = _table(report, "## Means per design point")[0]
    assert header[2:] == OUTPUTS
    res = load_results(out)
    titled = {}

    def keep(fig, path, title, caption, *a, **k):
        titled["panels"] = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.axison and ax.get_title()]
        return figs.style.Figure(path, title, caption)

    monkeypatch.setattr(figs.style, "finish", keep)
    figs.heatmap(res, outcomes(res), out / "unused.png")
    assert len(titled["panels"]) == len(OUTPUTS)
    from ecosystem_sim import glossary
    assert [t.split("\n")[0] for t in titled["panels"]] == [glossary.title(o) for o in OUTPUTS]


def test_analyze_counts_the_tables_it_wrote(analysed):
    out, stdout = analysed
    written = sorted(p.stem for p in (out / "tables").glob("*.csv"))
    said = re.search(r"(\d+) tables in \S+ \(([^)]*)\)", stdout)
    assert said, stdout
    assert int(said.group(1)) == len(written)
    assert sorted(said.group(2).split(", ")) == written
