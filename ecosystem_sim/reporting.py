"""Rendering of reports: markdown tables that survive any cell text, and ``report.html``, one
self-contained file (figures embedded as base64 PNG) made from ``report.md``, that an analyst
can send as it is.

Used by ``ecosim compare`` (``compare.py``) and ``ecosim analyze`` (``experiments/analysis.py``).
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

import pandas as pd

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .82em; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
td:last-child { white-space: normal; min-width: 16em; }
tbody tr:nth-child(even) { background: #fafafa; }
img { max-width: 100%; height: auto; display: block; margin: .8em 0 .2em; }
p.caption, em.caption { color: #444; font-size: .9em; }
code { background: #f4f4f4; padding: 0 .2em; }
"""


def _cell(value) -> str:
    """One cell's text: numbers with 3 significant digits, text with ``|`` escaped, no newlines."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame, max_rows: int | None = None) -> str:
    """A pipe table of ``df`` whose cells are escaped (``|`` as ``\\|``), so a label such as
    ``job_creation | budget_cut@12`` stays in its column; ``(none)`` for an empty frame."""
    if df.empty:
        return "(none)"
    shown = df if max_rows is None else df.head(max_rows)
    cells = shown.astype(object).map(_cell)
    cells.columns = [_cell(str(c)) for c in shown.columns]
    align = tuple("right" if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
                  else "left" for c in shown.columns)
    text = cells.to_markdown(index=False, disable_numparse=True, colalign=align)
    if max_rows is not None and len(df) > max_rows:
        text += f"\n\n({len(df) - max_rows} more rows in the CSV)"
    return text


def split_row(line: str) -> list[str]:
    """The cells of one markdown table row, splitting on unescaped ``|`` only (for tests and readers)."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _embed(match: re.Match, folder: Path) -> str:
    src = match.group(2)
    path = folder / src
    if src.startswith(("http:", "https:", "data:")) or not path.is_file():
        return match.group(0)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{match.group(1)}](data:image/png;base64,{data})"


def html_report(markdown_text: str, folder: Path, title: str) -> str:
    """The HTML of a markdown report, with every local image embedded (no file besides it needed)."""
    import markdown

    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: _embed(m, Path(folder)), markdown_text)
    body = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}"
            f"</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def write_reports(markdown_text: str, folder: Path, title: str) -> tuple[Path, Path]:
    """Write ``report.md`` and the self-contained ``report.html`` beside it."""
    folder = Path(folder)
    md_path, html_path = folder / "report.md", folder / "report.html"
    md_path.write_text(markdown_text, encoding="utf-8")
    html_path.write_text(html_report(markdown_text, folder, title), encoding="utf-8")
    return md_path, html_path
