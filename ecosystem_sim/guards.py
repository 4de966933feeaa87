"""Guards around what the commands write and start.

* **Output folders never lose what the program did not write.** A command checks its output
  folder before any work: a non-empty folder is used only if it is a previous output of the same
  command (recognised by the marker file ``.ecosim-output.json``, which lists the files the
  command wrote) or if the user passed ``--overwrite``. Never the working folder, one of its
  parents, the home folder or the file system's root, a file or a symbolic link. ``ecosim run``
  and ``ecosim decompose`` (:data:`REPLACED_WHOLE`) write into a new temporary folder beside the
  target and move it into place; nothing half
  written is ever left under the target's name.
* **Budgets before work**: the number of runs, the memory and the disk a job needs are estimated
  from its design before anything is allocated, and a job above a limit is refused with one line
  that says how to raise the limit (``--max-runs`` or the ``ECOSIM_*`` environment variables).
* **One writer per folder**: :func:`folder_lock` (an OS file lock, released by the kernel when the
  holder dies, kill -9 included).
* **Workers end with their parent**: :func:`worker_guard` is the initializer of every worker
  process (Linux: ``prctl(PR_SET_PDEATHSIG)``; everywhere: a watchdog thread).

Model code does not import this module; the command line, ``compare`` and the experiment layer do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

MARKER = ".ecosim-output.json"
LOCK = ".ecosim.lock"
STAGE_PREFIX = ".ecosim-tmp-"
REPLACED_WHOLE = ("run", "decompose")
"""Commands whose output folder is replaced as a whole (:func:`staged_folder`), not written into."""

ENV_MAX_RUNS = "ECOSIM_MAX_RUNS"
ENV_MAX_WORKERS = "ECOSIM_MAX_WORKERS"
ENV_MAX_MEMORY = "ECOSIM_MAX_MEMORY_GB"
ENV_MAX_DISK = "ECOSIM_MAX_DISK_GB"
DEFAULT_MAX_RUNS = 100_000
WORKERS_PER_CORE = 2

# Peak resident memory of one process running one run (docs/guarantees.md, "Limits"): measured
# 171 MB at 2,000 citizens and 239 MB at 100,000 (12 months), i.e. about 0.7 KB per citizen over
# the interpreter, Mesa and numpy. The estimate is deliberately above that (longer runs, the twin).
RUN_BASE_BYTES = 200e6
RUN_BYTES_PER_CITIZEN = 2.5e3
# One month of one measure in a CSV (text) or SQLite (REAL + overhead), and one run's summary JSON.
CSV_BYTES_PER_VALUE = 14
SQL_BYTES_PER_VALUE = 10
SUMMARY_BYTES = 12e3


class Refused(Exception):
    """A job the program will not start (exit status 2): the message says why and how to change it."""


# ------------------------------------------------------------------------------------ names
_UNSAFE = re.compile(r"[^\w\-+.() ]", re.UNICODE)


def safe_name(text: str, limit: int = 80) -> str:
    """``text`` as one file-name component: letters (any script), digits, ``_-+.()`` and spaces;
    anything else becomes ``_``; never empty, never starting with a dot, at most ``limit`` chars."""
    name = _UNSAFE.sub("_", str(text)).strip(" ").lstrip(".")[:limit].strip(" ")
    return name or "unnamed"


def inside(folder: Path, path: Path) -> Path:
    """``path`` if it lies inside ``folder`` (after resolving ``..`` and links); else :class:`Refused`."""
    base = Path(folder).resolve()
    target = Path(path).resolve()
    if target != base and not target.is_relative_to(base):
        raise Refused(f"{path}: would be written outside its output folder {folder}")
    return path


# ------------------------------------------------------------------------------------ output folders
def _forbidden(out: Path) -> str | None:
    r = out.resolve()
    cwd = Path.cwd().resolve()
    if r == cwd or cwd.is_relative_to(r):
        return "is the working folder or one of its parents; give a new folder, e.g. --out results/NAME"
    if r == Path(r.anchor):
        return "is the root of the file system"
    with contextlib.suppress(RuntimeError, KeyError):
        if r == Path.home().resolve():
            return "is your home folder"
    return None


def read_marker(folder: Path) -> dict | None:
    """The marker of a previous output in ``folder`` (None if absent or unreadable)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(folder: Path, command: str, files: list[str] | None = None) -> None:
    from importlib import metadata

    try:
        version = metadata.version("ecosystem_sim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    data = {"command": command, "files": sorted(files or []), "ecosim_version": version,
            "written_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = Path(folder) / (MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, Path(folder) / MARKER)


def prepare_output(out: Path, command: str, overwrite: bool = False, recognise=None) -> None:
    """Check ``out`` before any work (see the module docstring); raises :class:`Refused`.

    ``recognise(folder) -> bool`` may accept a folder without marker as a previous output (a sweep
    store written before markers existed)."""
    out = Path(out)
    flag = "--overwrite"
    if out.is_symlink():
        raise Refused(f"--out {out}: is a symbolic link; give the folder itself")
    if out.exists() and not out.is_dir():
        raise Refused(f"--out {out}: is a file, not a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise Refused(f"--out {out}: {parent} is a file, not a folder")
            break
    problem = _forbidden(out)
    if problem:
        raise Refused(f"--out {out}: {problem}")
    if not out.is_dir():
        return
    entries = {p.name for p in out.iterdir()} - {LOCK}
    if not entries:
        return
    marker = read_marker(out)
    ours = marker is not None and marker.get("command") == command
    if not ours and recognise is not None:
        ours = bool(recognise(out))
    if not ours:
        if overwrite:
            return
        raise Refused(f"--out {out}: folder is not empty and is not an output of `ecosim {command}` "
                      f"(no {MARKER}); choose a new folder, or pass {flag} to "
                      + ("replace it" if command in REPLACED_WHOLE else "write into it"))
    if command in REPLACED_WHOLE and not overwrite:
        extra = sorted(entries - set(marker.get("files", [])) - {MARKER})
        if extra:
            shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
            raise Refused(f"--out {out}: holds files that ecosim {command} did not write ({shown}); move them "
                          f"away, choose a new folder, or pass {flag} to replace the folder with them")


@contextlib.contextmanager
def staged_folder(out: Path, command: str):
    """Yield a new temporary folder beside ``out``; on success it replaces ``out`` (two renames on
    one file system), on any error it is removed and ``out`` is left as it was."""
    out = Path(out)
    made = _make_parents(out.parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX + safe_name(out.name, 40) + "-", dir=out.parent))
        yield tmp
        write_marker(tmp, command, [p.name for p in tmp.iterdir()])
        replace_folder(tmp, out)
        tmp = None
    except OSError as err:
        # name the folder the user asked for, not our temporary one (or nothing, as some writers do)
        if not err.filename or STAGE_PREFIX in str(err.filename):
            err.filename = str(out)
        _undo(tmp, made)
        raise
    except BaseException:
        _undo(tmp, made)
        raise


def _undo(tmp: Path | None, made: list[Path]) -> None:
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in reversed(made):
        with contextlib.suppress(OSError):
            p.rmdir()


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return the ones created (to undo on failure)."""
    missing = []
    p = Path(folder)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def replace_folder(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``; a previous ``out`` is moved aside first and removed last."""
    old = None
    if out.exists():
        old = out.parent / f"{STAGE_PREFIX}old-{safe_name(out.name, 40)}-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def move_files_into(stage: Path, out: Path) -> list[str]:
    """Move every file of ``stage`` (recursively) into the same place under ``out``, one
    ``os.replace`` each, and remove ``stage``; files of ``out`` that are not in ``stage`` stay."""
    moved = []
    for src in sorted(stage.rglob("*")):
        if src.is_dir():
            continue
        rel = src.relative_to(stage)
        dest = inside(out, out / rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        moved.append(str(rel))
    shutil.rmtree(stage, ignore_errors=True)
    return moved


@contextlib.contextmanager
def stage_inside(out: Path):
    """A temporary folder inside ``out`` (same file system), removed on error."""
    stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# ------------------------------------------------------------------------------------ lock
@contextlib.contextmanager
def folder_lock(folder: Path, command: str, name: str = LOCK, shown: Path | None = None):
    """Hold an exclusive lock on ``folder`` for ``command``; :class:`Refused` (naming ``shown``,
    default ``folder``) if another process holds it. The OS releases the lock when the holder
    dies, however it dies."""
    path = Path(folder) / name
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.read(fd, 200).decode().strip()
            os.close(fd)
            raise Refused(f"{shown or folder}: in use by another ecosim {command} ({holder or 'another process'}); "
                          "wait for it to finish, or use another --out")
        # the file may have been removed by the previous holder between open and lock: retry
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()}, ecosim {command}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        _unlock(fd)
        os.close(fd)


@contextlib.contextmanager
def output_lock(out: Path, command: str):
    """Lock an output folder that is replaced as a whole (``ecosim run``): the lock file lives
    beside it (``.ecosim.lock-NAME``), since the folder itself is moved aside when the new output
    takes its place. A second command on the same ``out`` is refused while the first works;
    parents created for the lock are removed again if nothing else was put there."""
    out = Path(out)
    made = _make_parents(out.parent)
    try:
        with folder_lock(out.parent, command, name=f"{LOCK}-{safe_name(out.name, 60)}", shown=out):
            yield
    finally:
        for p in reversed(made):
            with contextlib.suppress(OSError):
                p.rmdir()


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, 0)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


# ------------------------------------------------------------------------------------ budgets
def _env_number(name: str, default: float | None, integer: bool = False) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise Refused(f"environment variable {name}={raw!r}: must be a {'whole ' if integer else ''}number") from None
    if value <= 0:
        raise Refused(f"environment variable {name}={raw!r}: must be above 0")
    return value


def max_runs(explicit: int | None = None) -> int:
    """The run-count limit: ``--max-runs``, else ``ECOSIM_MAX_RUNS``, else 100,000."""
    if explicit is not None:
        return int(explicit)
    return int(_env_number(ENV_MAX_RUNS, DEFAULT_MAX_RUNS, integer=True))


def available_memory() -> float | None:
    """Bytes of memory available now (``ECOSIM_MAX_MEMORY_GB`` overrides; None if unknown)."""
    limit = _env_number(ENV_MAX_MEMORY, None)
    if limit is not None:
        return limit * 1e9
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def available_disk(folder: Path) -> float | None:
    """Bytes free where ``folder`` (or its nearest existing parent) lives; ``ECOSIM_MAX_DISK_GB`` overrides."""
    limit = _env_number(ENV_MAX_DISK, None)
    if limit is not None:
        return limit * 1e9
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return float(shutil.disk_usage(p).free)
    except OSError:
        return None


def run_memory(citizens: int) -> float:
    """Estimated peak memory of one run (bytes) of a region of ``citizens``."""
    return RUN_BASE_BYTES + RUN_BYTES_PER_CITIZEN * citizens


def _gb(x: float) -> str:
    return f"{x / 1e9:.1f} GB" if x >= 1e9 else f"{x / 1e6:.1f} MB" if x >= 1e6 else f"{x / 1e3:.0f} KB"


def check_budget(what: str, runs: int, months: int, citizens: int,
                 disk_bytes: float = 0.0, held_bytes: float = 0.0, folder: Path | None = None,
                 limit_runs: int | None = None, runs_option: str | None = "--max-runs") -> None:
    """Refuse (:class:`Refused`) a job above a limit, before it allocates anything.

    ``held_bytes`` is what the parent holds at once (design, tables); one run must fit beside it
    (more workers are cut to what memory holds by :func:`cap_workers`)."""
    limit = max_runs(limit_runs)
    how = (f"raise the limit with {runs_option} N or {ENV_MAX_RUNS}=N" if runs_option
           else f"raise the limit with {ENV_MAX_RUNS}=N")
    if runs > limit:
        raise Refused(f"{what}: {runs:,} runs ({runs * months * citizens:.3g} citizen-months) is above the "
                      f"limit of {limit:,} runs; make the design smaller, or {how}")
    # at least one run must fit beside what the parent holds; workers beyond that are cut by cap_workers
    memory = held_bytes + run_memory(citizens)
    free = available_memory()
    if free is not None and memory > free:
        raise Refused(f"{what}: needs about {_gb(memory)} of memory (a run of {citizens:,} citizens + "
                      f"{_gb(held_bytes)} of design and tables) but {_gb(free)} is available; make it smaller, "
                      f"or set {ENV_MAX_MEMORY}=N if you know better")
    if folder is not None and disk_bytes:
        disk = available_disk(folder)
        if disk is not None and disk_bytes > disk:
            raise Refused(f"{what}: needs about {_gb(disk_bytes)} of disk in {folder} but {_gb(disk)} is free; "
                          f"free space, choose another --out, or set {ENV_MAX_DISK}=N if you know better")


def cap_workers(workers: int, tasks: int, citizens: int = 0, warn=None) -> int:
    """Workers actually started: at most ``tasks``, at most ``ECOSIM_MAX_WORKERS`` (default
    2 × cores) and no more than the available memory holds; a cut below the request is warned."""
    cores = os.cpu_count() or 1
    cap = int(_env_number(ENV_MAX_WORKERS, WORKERS_PER_CORE * cores, integer=True))
    n = min(workers, cap)
    reason = f"at most {cap} ({WORKERS_PER_CORE} × {cores} cores; {ENV_MAX_WORKERS} changes it)"
    free = available_memory()
    if citizens and free is not None:
        by_memory = max(1, int(free // run_memory(citizens)))
        if by_memory < n:
            n, reason = by_memory, f"the available memory ({_gb(free)}) holds {by_memory} run(s) of {citizens:,} citizens"
    if n < workers:
        (warn or _stderr)(f"warning: --workers {workers} reduced to {n}: {reason}")
    return max(1, min(n, max(1, tasks)))


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


# ------------------------------------------------------------------------------------ worker processes
def mp_context():
    """Fresh worker processes ("forkserver" where available): forking a parent that already runs
    threads (tqdm's monitor, Dask, a notebook) can deadlock, and a forkserver ends with its parent."""
    import multiprocessing as mp

    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def worker_guard(main_pid: int) -> None:
    """Initializer of worker processes: end this worker when the program that started it dies.

    On Linux the kernel sends SIGKILL when the worker's parent exits (``PR_SET_PDEATHSIG``); on
    every system a daemon thread checks twice a second that the parent is unchanged and the main
    program alive, and ends the worker otherwise (it is re-parented when its parent dies)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if _orphaned(parent, main_pid):
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, main_pid), name="ecosim-parent-watch", daemon=True).start()


def _orphaned(parent: int, main_pid: int) -> bool:
    if os.getppid() != parent:
        return True
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return False
    try:
        os.kill(main_pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _watch(parent: int, main_pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if _orphaned(parent, main_pid):
            os._exit(1)


# ------------------------------------------------------------------------------------ OS faults
def describe_os_error(err: OSError) -> str:
    """One line for an error of the operating system: what, where, and what to do."""
    where = err.filename or ""
    if err.filename2:
        where = f"{where} -> {err.filename2}"
    text = err.strerror or str(err)
    hint = {28: "free some space and run the same command again",          # ENOSPC
            122: "free some space and run the same command again",         # EDQUOT
            27: "the file size limit of this process was reached",        # EFBIG
            30: "the folder is on a read-only file system; choose another --out",  # EROFS
            13: "no permission to write there; choose another --out"}.get(err.errno or 0, "")  # EACCES
    return f"{where + ': ' if where else ''}{text}" + (f" ({hint})" if hint else "")
