"""The documentation stands on its own: it names no path of the machine it was written on, cites
the source documents by file name (their digest is docs/sources.md), claims no output format
that nothing writes, and names the store's real columns."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
SOURCES = ("000_06b4ffdc5bd5b391.txt", "001_ca3f5d496cc1be29.txt")


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_no_machine_paths(path):
    text = path.read_text(encoding="utf-8")
    for pattern in (r"/work/", r"shared/docs", r"/home/", r"/tmp/", r"\.\./seeds", r"[0-9]{3}_…txt"):
        assert not re.search(pattern, text), f"{path.name} mentions {pattern!r}"


def test_sources_are_cited_by_file_name_and_digested_in_docs():
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    digest = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for name in SOURCES:
        assert name in odd and name in digest
    assert "(sources.md)" in odd
    for section in ("existing approach vs new approach", "talks", "Commons-based"):
        assert section.lower() in digest.lower()


def test_parquet_is_mentioned_only_if_something_writes_it():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "ecosystem_sim").rglob("*.py"))
    writes_parquet = "to_parquet" in code
    for path in DOCS:
        if "Parquet" in path.read_text(encoding="utf-8"):
            assert writes_parquet, f"{path.name} mentions Parquet, which nothing writes"


def test_experiments_doc_names_the_stores_real_columns(tmp_path):
    from ecosystem_sim.experiments import load_experiment
    from ecosystem_sim.experiments.design import build_design
    from ecosystem_sim.experiments.store import Store

    exp = tmp_path / "e.toml"
    exp.write_text('replications = 1\n[overrides]\nn_citizens = 500\ncitizens_per_community = 250\n[levers.safety_net]\nvalues = [0.5]\n')
    Store(tmp_path / "out", build_design(load_experiment(exp)), {}).close()
    con = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    columns = {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")} for t in
               ("manifest", "points", "runs", "timeseries", "resilience", "diffusion", "sessions")}
    con.close()
    text = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    block = text[text.index("Tables and their columns:"):text.index("Read it with pandas:")]
    for table, cols in columns.items():
        line = re.search(rf"- `{table}`:(.*?)(?=\n- `|\Z)", block, flags=re.S)
        assert line, f"docs/experiments.md does not describe table {table}"
        named = set(re.findall(r"`([a-z_0-9]+)`", line.group(1))) - {"ok", "failed"}
        assert named <= cols, f"{table}: documented columns that do not exist: {named - cols}"
        plain = {c for c in cols if not c.startswith(("param_", "final_"))} - {"id"}
        if table != "timeseries":
            assert plain <= named | {"id"}, f"{table}: columns missing from the docs: {plain - named}"


def test_readme_images_exist_and_are_small():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"docs/img/run_twin.png", "docs/img/sweep_timeseries.png", "docs/img/report_html.png"} <= set(images)
    for rel in images:
        path = ROOT / rel
        assert path.is_file(), rel
        assert path.stat().st_size < 300_000, rel
