"""Regenerate the bit-identity reference of ``tests/test_reference.py`` (one command):

    .venv/bin/python benchmarks/make_reference.py

Writes ``tests/data/reference_<scenario>.json`` for the scenarios in
``ecosystem_sim.bench.REFERENCE_SCENARIOS`` (``scenarios/<name>.toml``), seeds
``REFERENCE_SEEDS``, ``REFERENCE_N`` citizens and ``REFERENCE_STEPS`` months: the final-step
measures at full float precision and a SHA-256 of the whole measures frame.

Regenerate only when the model is *meant* to change (calibration, a new mechanism);
a pure optimisation must leave these files unchanged (``git diff tests/data`` is empty).
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from ecosystem_sim.bench import (REFERENCE_N, REFERENCE_SCENARIOS, REFERENCE_SEEDS, REFERENCE_STEPS,
                                     reference_summary)

    out_dir = ROOT / "tests" / "data"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_SCENARIOS:
        path = ROOT / "scenarios" / f"{name}.toml"
        runs = [reference_summary(path, seed) for seed in REFERENCE_SEEDS]
        doc = {
            "scenario": f"scenarios/{name}.toml",
            "n_citizens": REFERENCE_N,
            "steps": REFERENCE_STEPS,
            "seeds": list(REFERENCE_SEEDS),
            "versions": {p: metadata.version(p) for p in ("mesa", "numpy", "scipy", "pandas")},
            "python": sys.version.split()[0],
            "regenerate": ".venv/bin/python benchmarks/make_reference.py",
            "runs": runs,
        }
        target = out_dir / f"reference_{name}.json"
        target.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
