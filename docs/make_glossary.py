"""Write docs/glossary.md from ecosystem_sim/glossary.py (run after changing measures or the glossary).

    python docs/make_glossary.py
"""

from __future__ import annotations

from pathlib import Path

from ecosystem_sim.glossary import glossary_markdown

PATH = Path(__file__).resolve().parent / "glossary.md"

if __name__ == "__main__":
    PATH.write_text(glossary_markdown(), encoding="utf-8")
    print(f"wrote {PATH.name}")
