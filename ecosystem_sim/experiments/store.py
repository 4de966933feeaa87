"""The results store: one SQLite file (``DIR/results.sqlite``, WAL mode) that loses nothing.

Tables (query them with ``sqlite3`` or ``pandas.read_sql``):

    manifest    one row: design hash, experiment identity, the design (JSON), the experiment
                file's text and path, root seed, counts, kept measures, provenance (versions,
                commit), creation time, model fingerprint (which model made the runs).
    points      one row per design point: point_id, regime, shock_case, label, grp, sample,
                params_json and one ``param_<name>`` column per varied lever, scenario_json,
                point_key (hash of the point's content, which with the replicate fixes the seed).
    runs        one row per *finished* run: run_id (primary key), point_id, replicate, seed,
                regime, shock_case, params (JSON + ``param_<name>`` columns), status ('ok' or
                'failed'), error, summary (JSON) and ``final_<measure>`` columns, duration (s).
    timeseries  wide: run_id, step and the kept measures (primary key run_id, step).
    resilience  run_id, shock, kind, step, measure, resistance, recovery_time, integrated_loss,
                permanent_shift, collapsed.
    diffusion   run_id, domain, final_share, t10, t50, t90, bass_p, bass_q, bass_m.
    sessions    one row per ``sweep`` invocation (start time, workers, scheduler, runs to do).

The manifest and the points are written first, in one transaction. Running a design with the same
experiment identity that contains every stored run (more replications, more lever values or shock
cases) *extends* the store: in one transaction the stored points and runs are renumbered to their
place in the new design (their seeds, and so their results, are those the new design would give
them) and only the new runs are left to do. Anything else is refused. A store is only resumed or
extended by the model that wrote it: its manifest records the model fingerprint
(:func:`ecosystem_sim.fingerprint.model_fingerprint`), and a store of another fingerprint (the
package upgraded or edited since), or of none (written by an older version), is refused with
:class:`ModelMismatch` before anything is written to it, so runs of two models are never mixed. A run's rows in ``runs``,
``timeseries``, ``resilience`` and ``diffusion`` are written in one transaction committed as
soon as the run returns (by the parent process only), so killing the sweep at any moment
leaves every table consistent; the missing runs are exactly the run_ids not in ``runs``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from .. import fingerprint
from ..measures import MEASURES
from .design import Design

DB_NAME = "results.sqlite"
RES_COLS = ("resistance", "recovery_time", "integrated_loss", "permanent_shift", "collapsed")
DIFF_COLS = ("final_share", "t10", "t50", "t90", "bass_p", "bass_q", "bass_m")


TABLES = ("manifest", "points", "runs", "timeseries", "resilience", "diffusion", "sessions")


class DesignMismatch(Exception):
    """The store holds a different design than the one asked for."""


class ModelMismatch(DesignMismatch):
    """The store's runs were made by another model (another model fingerprint, or none recorded)."""


class StoreError(Exception):
    """``results.sqlite`` is not a readable store of ecosim (corrupted, truncated or another program's)."""


def check_store(path: Path, allow_empty: bool = False) -> None:
    """Raise :class:`StoreError` unless ``path`` is a readable ecosim store with every table
    (or, with ``allow_empty``, an SQLite file without any table: a store whose creation was cut short)."""
    con = None
    try:
        con = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not names and allow_empty:
            return
        if "manifest" not in names:
            raise StoreError(f"{path}: not a results store of ecosim (no manifest table"
                             + (f"; it holds {', '.join(sorted(names)[:3])}" if names else "") + "); move it away "
                             "or use another folder")
        missing = [t for t in TABLES if t not in names]
        if missing:
            raise StoreError(f"{path}: results store without the table(s) {', '.join(missing)}; move it away "
                             "or use another folder")
        if con.execute("SELECT COUNT(*) FROM manifest WHERE id = 1").fetchone()[0] != 1:
            raise StoreError(f"{path}: results store with an empty manifest; move it away or use another folder")
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path}: not a readable results store ({err}); move it away or use another folder") from None
    finally:
        if con is not None:
            con.close()


def is_store(folder: Path) -> bool:
    """True if ``folder`` holds a readable ecosim store (an earlier sweep's folder)."""
    path = Path(folder) / DB_NAME
    if not path.is_file():
        return False
    try:
        check_store(path)
    except StoreError:
        return False
    return True


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable against process kills
    con.execute("PRAGMA foreign_keys=ON")
    return con


class Store:
    """Open (or create) the store for ``design`` in ``folder``."""

    def __init__(self, folder: str | Path, design: Design | None = None, provenance: dict | None = None):
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if design is None:
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: no results store here (run `ecosim sweep` first)")
            self.con = connect(self.path)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            check_store(self.path, allow_empty=True)  # a corrupted or foreign file: one clear error, nothing written to it
        self.con = connect(self.path)
        self.design = design
        try:
            row = self._manifest_row()
        except BaseException:
            self.con.close()
            raise
        if row is None:
            try:
                self._create(design, provenance or {})
            except BaseException:
                self.con.close()
                raise
            return
        model = fingerprint.model_fingerprint()
        if row.get("model_fingerprint") != model:
            self.con.close()
            stored = row.get("model_fingerprint")
            made_by = (f"was written by another model (fingerprint {stored}; this one is {model}: the package "
                       "was upgraded or edited since)" if stored else
                       f"was written by an older version of ecosim that did not record its model (this model's "
                       f"fingerprint is {model})")
            raise ModelMismatch(f"{self.path} {made_by}; its runs cannot be mixed with new ones: use a new --out "
                                "folder, or delete the old one to start over")
        if row["design_hash"] != design.hash:
            problem = self._extension_problem(row, design)
            if problem:
                self.con.close()
                raise DesignMismatch(
                    f"{self.path} holds results of a different design (hash {row['design_hash'][:12]}, from "
                    f"{row['experiment_path']}) than {design.experiment.source} (hash {design.hash[:12]}): "
                    f"{problem}; use another --out folder, or delete the old one to start over")
            self.extended = self._extend(design)
        else:
            # same design: keep the analysis settings ([analysis]) and file text of the latest call
            self.con.execute("UPDATE manifest SET design_json = ?, experiment_text = ?, experiment_path = ? "
                             "WHERE id = 1", (json.dumps(design.to_dict()), design.experiment.text,
                                              design.experiment.source))

    extended: int | None = None
    """How many stored runs were carried over into an extended design (None: no extension)."""

    def _extension_problem(self, row: dict, design: Design) -> str | None:
        """Why ``design`` cannot extend the stored one, or None if it can."""
        if row.get("identity") != design.identity:
            return ("a different experiment (root seed, seeding, design kind, varied levers, base scenario, presets, "
                    "overrides, steps or kept measures differ, or the store was written by an older version)")
        new = {(p.key, r.replicate) for p in design.points for r in design.runs if r.point_id == p.point_id}
        stored = self.con.execute("SELECT p.point_key, r.replicate FROM runs r JOIN points p "
                                  "USING (point_id)").fetchall()
        lost = [k for k in stored if tuple(k) not in new]
        if lost:
            return (f"{len(lost)} of its {len(stored)} stored runs are not in the new design (fewer replications, "
                    "or design points removed); a design may only add replications, lever values or shock cases")
        return None

    def _extend(self, design: Design) -> int:
        """Renumber the stored points and runs to their place in ``design`` and make it the store's design."""
        exp = design.experiment
        params = [f.name for f in exp.factors]
        by_key = {p.key: p.point_id for p in design.points}
        run_of = {(r.point_id, r.replicate): r for r in design.runs}
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("PRAGMA defer_foreign_keys = ON")
            old_points = dict(con.execute("SELECT point_id, point_key FROM points").fetchall())
            moves = []
            for run_id, point_id, rep, seed in con.execute("SELECT run_id, point_id, replicate, seed FROM runs"):
                new_run = run_of[(by_key[old_points[point_id]], rep)]
                if new_run.seed != seed:  # cannot happen unless the seeding scheme changed
                    raise DesignMismatch(f"{self.path}: run {run_id} has seed {seed}, the extended design "
                                         f"gives it {new_run.seed}")
                moves.append((run_id, new_run.run_id, new_run.point_id))
            # two passes through negative ids, so no renumbered id collides with one not yet moved
            for table in ("runs", "timeseries", "resilience", "diffusion"):
                con.executemany(f"UPDATE {table} SET run_id = ? WHERE run_id = ?",
                                [(-1 - new, old) for old, new, _ in moves])
                con.execute(f"UPDATE {table} SET run_id = -1 - run_id WHERE run_id < 0")
            con.executemany("UPDATE runs SET point_id = ? WHERE run_id = ?", [(pid, new) for _, new, pid in moves])
            con.execute("DELETE FROM points")
            self._insert_points(design, params)
            con.execute("UPDATE manifest SET design_hash = ?, design_json = ?, n_points = ?, n_runs = ?, "
                        "replications = ?, experiment_text = ?, experiment_path = ? WHERE id = 1",
                        (design.hash, json.dumps(design.to_dict()), len(design.points), len(design.runs),
                         exp.replications, exp.text, exp.source))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        return len(moves)

    def _insert_points(self, design: Design, params: list[str]) -> None:
        ph = ", ".join("?" * (9 + len(params)))
        cols = ["point_id", "regime", "shock_case", "label", "grp", "sample", "params_json", "scenario_json",
                "point_key"] + ["param_" + p for p in params]
        self.con.executemany(f"INSERT INTO points ({', '.join(map(_q, cols))}) VALUES ({ph})", [
            (p.point_id, p.regime, p.shock_case, p.label, p.group, p.sample, json.dumps(p.params),
             json.dumps(p.scenario), p.key, *[p.params[k] for k in params]) for p in design.points])

    # ------------------------------------------------------------------ schema
    def _manifest_row(self) -> dict | None:
        try:
            cur = self.con.execute("SELECT * FROM manifest WHERE id = 1")
        except sqlite3.OperationalError:
            return None
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row))

    def _create(self, design: Design, provenance: dict) -> None:
        exp = design.experiment
        params = [f.name for f in exp.factors]
        pcols = "".join(f", {_q('param_' + p)} REAL" for p in params)
        fcols = "".join(f", {_q('final_' + m)} REAL" for m in MEASURES)
        mcols = "".join(f", {_q(m)} REAL" for m in exp.measures)
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("""CREATE TABLE manifest (id INTEGER PRIMARY KEY CHECK (id = 1), design_hash TEXT NOT NULL,
                identity TEXT,
                experiment_name TEXT, experiment_path TEXT, experiment_text TEXT, design_json TEXT NOT NULL,
                root_seed INTEGER, n_points INTEGER, n_runs INTEGER, replications INTEGER, measures_json TEXT,
                provenance_json TEXT, created_utc TEXT, format_version INTEGER, model_fingerprint TEXT)""")
            con.execute(f"""CREATE TABLE points (point_id INTEGER PRIMARY KEY, regime TEXT, shock_case TEXT,
                label TEXT, grp INTEGER, sample INTEGER, params_json TEXT, scenario_json TEXT, point_key TEXT{pcols})""")
            con.execute(f"""CREATE TABLE runs (run_id INTEGER PRIMARY KEY, point_id INTEGER NOT NULL
                REFERENCES points(point_id), replicate INTEGER NOT NULL, seed INTEGER NOT NULL, regime TEXT,
                shock_case TEXT, params_json TEXT{pcols}, status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
                error TEXT, summary_json TEXT{fcols}, duration REAL, finished_utc TEXT)""")
            con.execute(f"""CREATE TABLE timeseries (run_id INTEGER NOT NULL REFERENCES runs(run_id),
                step INTEGER NOT NULL{mcols}, PRIMARY KEY (run_id, step)) WITHOUT ROWID""")
            con.execute(f"""CREATE TABLE resilience (run_id INTEGER NOT NULL REFERENCES runs(run_id),
                shock INTEGER, kind TEXT, step INTEGER, measure TEXT,
                {', '.join(c + ' REAL' for c in RES_COLS)}, PRIMARY KEY (run_id, shock, measure)) WITHOUT ROWID""")
            con.execute(f"""CREATE TABLE diffusion (run_id INTEGER NOT NULL REFERENCES runs(run_id), domain TEXT,
                {', '.join(c + ' REAL' for c in DIFF_COLS)}, PRIMARY KEY (run_id, domain)) WITHOUT ROWID""")
            con.execute("""CREATE TABLE sessions (session INTEGER PRIMARY KEY AUTOINCREMENT, started_utc TEXT,
                workers INTEGER, scheduler TEXT, todo INTEGER, provenance_json TEXT)""")
            con.execute("INSERT INTO manifest VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (design.hash, design.identity, exp.name, exp.source, exp.text, json.dumps(design.to_dict()), exp.seed,
                         len(design.points), len(design.runs), exp.replications, json.dumps(list(exp.measures)),
                         json.dumps(provenance), _now(), 3, fingerprint.model_fingerprint()))
            self._insert_points(design, params)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ runs
    def done_ids(self, include_failed: bool = True) -> set[int]:
        sql = "SELECT run_id FROM runs" + ("" if include_failed else " WHERE status = 'ok'")
        return {r[0] for r in self.con.execute(sql)}

    def drop_failed(self) -> int:
        """Delete failed runs (so they are run again); returns how many."""
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        ids = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE status = 'failed'")]
        for table in ("timeseries", "resilience", "diffusion", "runs"):
            con.executemany(f"DELETE FROM {table} WHERE run_id = ?", [(i,) for i in ids])
        con.execute("COMMIT")
        return len(ids)

    def add_session(self, workers: int, scheduler: str, todo: int, provenance: dict) -> None:
        self.con.execute("INSERT INTO sessions (started_utc, workers, scheduler, todo, provenance_json) "
                         "VALUES (?, ?, ?, ?, ?)", (_now(), workers, scheduler, todo, json.dumps(provenance)))

    def record(self, result: dict) -> bool:
        """Write one finished run (ok or failed) and everything it produced, in one transaction.
        Returns False (and writes nothing) if the run_id is already stored."""
        d = self.design
        run = d.runs[result["run_id"]]
        point = d.points[run.point_id]
        exp = d.experiment
        params = [f.name for f in exp.factors]
        summary = result.get("summary") or {}
        final = summary.get("final", {})
        cols = (["run_id", "point_id", "replicate", "seed", "regime", "shock_case", "params_json"]
                + ["param_" + p for p in params] + ["status", "error", "summary_json"]
                + ["final_" + m for m in MEASURES] + ["duration", "finished_utc"])
        values = ([run.run_id, run.point_id, run.replicate, run.seed, point.regime, point.shock_case,
                   json.dumps(point.params)] + [point.params[p] for p in params]
                  + [result["status"], result.get("error"), json.dumps(summary) if summary else None]
                  + [final.get(m) for m in MEASURES] + [result.get("duration"), _now()])
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            try:
                con.execute(f"INSERT INTO runs ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})",
                            values)
            except sqlite3.IntegrityError:
                # already recorded (a second sweep on the same folder got there first): keep the first
                con.execute("ROLLBACK")
                return False
            ts = result.get("timeseries")
            if ts:
                names = ["step", *exp.measures]
                rows = [(run.run_id, *row) for row in zip(*(ts[n] for n in names))]
                con.executemany(f"INSERT INTO timeseries (run_id, {', '.join(map(_q, names))}) VALUES "
                                f"({', '.join('?' * (len(names) + 1))})", rows)
            res = summary.get("resilience") or []
            if res:
                con.executemany(f"INSERT INTO resilience VALUES ({', '.join('?' * (5 + len(RES_COLS)))})",
                                [(run.run_id, r["shock"], r["kind"], r["step"], r["measure"],
                                  *[r.get(c) for c in RES_COLS]) for r in res])
            diff = summary.get("diffusion") or {}
            if diff:
                con.executemany(f"INSERT INTO diffusion VALUES ({', '.join('?' * (2 + len(DIFF_COLS)))})",
                                [(run.run_id, dom, *[v.get(c) for c in DIFF_COLS]) for dom, v in diff.items()])
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        return True

    def close(self) -> None:
        self.con.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
