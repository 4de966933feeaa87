"""The glossary of measures: every measure has words, a unit and a direction; docs/glossary.md is
generated from it and up to date; figures label their axes from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecosystem_sim import glossary
from ecosystem_sim.experiments.spec import DEFAULT_OUTPUTS
from ecosystem_sim.measures import MEASURES
from ecosystem_sim.reporting import split_row

ROOT = Path(__file__).resolve().parents[1]


def test_docs_glossary_is_generated_and_up_to_date():
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert text == glossary.glossary_markdown(), "docs/glossary.md is stale: run `python docs/make_glossary.py`"


def test_every_measure_has_one_row_with_words_unit_and_direction():
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    part = text[text.index("## Per-month measures"):text.index("## Resilience metrics")]
    rows = [split_row(line) for line in part.splitlines() if line.startswith("| `")]
    assert [r[0].strip("`") for r in rows] == list(MEASURES)
    for name, words, unit, better, meaning in rows:
        assert words and words != name, name
        assert unit, f"{name} has no unit"
        assert better in ("higher", "lower", "—")
        assert meaning


@pytest.mark.parametrize("name", [*MEASURES, *DEFAULT_OUTPUTS])
def test_axis_labels_carry_a_unit(name):
    t = glossary.term(name)
    assert t.unit and t.label.endswith(f"({t.unit})")
    assert "_" not in t.title


def test_glossary_entries_name_only_real_measures():
    assert set(glossary._MEASURES) <= set(MEASURES), "glossary entries for measures that no longer exist"
