"""Output files, written so that an interrupted or failed run never leaves half an output.

* :func:`atomic_write`: one file goes to a temporary file in the target folder, is flushed to
  disk, then renamed over the target: readers see the old file or the new one.
* :func:`write_unit`: a group of files that belong together (a plan folder: ``plan.csv``,
  ``summary.json``, ``scenario.yaml``) is written to a temporary folder first, with a manifest
  of SHA-256 checksums; the old manifest is removed, the files are renamed into place and the
  new manifest comes last. :func:`read_unit` verifies the manifest, so a reader never accepts
  files of two different runs side by side (a kill during the renames leaves no manifest, and
  the folder is refused until it is written again).

Every OS failure while writing (folder not writable, a file where a folder should be, disk
full) becomes :class:`bheard.errors.OutputError` naming the path; temporary files are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from bheard.errors import InputError, OutputError

#: name of the manifest of a unit folder (checksums of its files; written last)
MANIFEST_NAME = "manifest.json"
#: prefix of the temporary folders of :func:`write_unit` (removed when their writer is gone)
UNIT_TMP_PREFIX = ".bheard-tmp-"
#: largest file a unit folder may hold (bytes); a plan's files are far smaller
MAX_UNIT_FILE_BYTES = 256 << 20


def check_writable(path: str | Path, *, folder: bool = True) -> Path:
    """Before a long run: can ``path`` (a folder, or a file when ``folder`` is False) be
    written? It, or the nearest existing folder above it, must be a writable folder (a file
    where a folder should be, a read-only parent: :class:`OutputError` naming the path), so a
    solve does not fail only after its work is done. Creates nothing."""
    path = Path(path)
    p = path if folder else path.parent
    while not p.exists() and p != p.parent:
        p = p.parent
    if path.exists() and folder and not path.is_dir():
        raise OutputError.single(path, "(folder)", "a file, not a folder",
                                 "a folder path (or a path that does not exist yet)")
    if path.exists() and not folder and path.is_dir():
        raise OutputError.single(path, "(file)", "a folder, not a file", "a file path")
    if not p.is_dir():
        raise OutputError.single(path, "(folder)", f"{p} is not a folder",
                                 "a path under a writable folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutputError.single(path, "(folder)", f"{p} is not writable",
                                 "a path under a writable folder")
    return path


def ensure_dir(path: str | Path) -> Path:
    """``mkdir -p path``; an OS failure becomes :class:`OutputError` naming the path."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the folder should be
        raise OutputError.single(path, "(folder)", "a file, not a folder",
                                 "a folder path (or a path that does not exist yet)") from None
    except OSError as exc:
        raise OutputError.from_os(path, exc, "create folder") from None
    if not path.is_dir():
        raise OutputError.single(path, "(folder)", "not a folder", "a folder path")
    return path


def atomic_write(path: str | Path, write: Callable[[Any], None], mode: str = "w") -> Path:
    """Call ``write(fh)`` on a temp file beside ``path`` and rename it over ``path``."""
    path = Path(path)
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError.from_os(path, exc) from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if "b" not in mode else {})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError.from_os(path, exc) from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda fh: fh.write(text))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def atomic_write_csv(path: str | Path, df) -> Path:
    return atomic_write(path, lambda fh: df.to_csv(fh, index=False, lineterminator="\n"))


def csv_bytes(df) -> bytes:
    """A DataFrame as the CSV bytes :func:`atomic_write_csv` writes."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, default=_json_default) + "\n").encode("utf-8")


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (renames) to disk where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` alive (a process of another user counts as alive)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_unit_temps(out: Path) -> None:
    """Delete temporary folders of :func:`write_unit` whose writing process is gone."""
    for tmp in out.glob(UNIT_TMP_PREFIX + "*"):
        try:
            pid = int(tmp.name[len(UNIT_TMP_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def write_unit(out_dir: str | Path, files: dict[str, bytes], *, kind: str,
               remove: tuple[str, ...] = ()) -> Path:
    """Write ``files`` (name -> bytes) into ``out_dir`` as one unit with a manifest.

    The files and the manifest (``kind``, each file's SHA-256 and size) are written to a
    temporary folder inside ``out_dir`` first, each flushed to disk; a failure there leaves the
    old unit untouched. Then the old manifest and the ``remove`` files (outputs derived from
    the old unit, e.g. its simulation) are deleted, the files are renamed into place and the
    manifest is renamed last. Other files in ``out_dir`` are left alone.
    """
    out = ensure_dir(out_dir)
    remove_stale_unit_temps(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{UNIT_TMP_PREFIX}{os.getpid()}-", dir=out))
    except OSError as exc:
        raise OutputError.from_os(out, exc) from None
    manifest = {"kind": kind, "files": {n: {"sha256": _sha256(b), "bytes": len(b)}
                                        for n, b in files.items()}}
    try:
        try:
            for name, data in [*files.items(), (MANIFEST_NAME, json_bytes(manifest))]:
                with open(tmp / name, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp / name, 0o666 & ~_umask())
            # the old manifest goes first: from here until the new one is in place the folder
            # is incomplete (readers refuse it), never a mix of two runs
            for name in (MANIFEST_NAME, *remove):
                if (out / name).is_file():
                    os.unlink(out / name)
            fsync_dir(out)
            for name in [*files, MANIFEST_NAME]:
                os.replace(tmp / name, out / name)
            fsync_dir(out)
        except OSError as exc:
            raise OutputError.from_os(out, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def read_unit(out_dir: str | Path, kind: str, what: str) -> dict[str, bytes]:
    """The files of a unit folder written by :func:`write_unit`, verified against its manifest.

    Raises :class:`InputError` naming the folder when the manifest is missing (an interrupted
    write, or an older bheard), is not one of ``kind``, or a file is missing or changed.
    ``what`` says how such a folder is made (for the message).
    """
    out = Path(out_dir)
    mpath = out / MANIFEST_NAME
    if not mpath.is_file():
        raise InputError.single(out, MANIFEST_NAME, "(missing)",
                                f"{what} (its manifest is written last: a folder without one"
                                " was interrupted while being written, or is from an older"
                                " bheard; write it again)")
    try:
        raw = mpath.read_bytes()
        if len(raw) > 1 << 20:
            raise ValueError("too large")
        m = json.loads(raw.decode("utf-8"))
        entries = m["files"]
        ok = m.get("kind") == kind and isinstance(entries, dict) and all(
            isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("sha256"), str)
            for k, v in entries.items())
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise InputError.single(mpath, "(file)", "not a bheard manifest", f"{what}")
    data: dict[str, bytes] = {}
    for name, entry in entries.items():
        p = out / name
        if Path(name).name != name or not p.is_file():
            raise InputError.single(out, name, "(missing)", f"{what} (every file its manifest"
                                    " lists)")
        size = p.stat().st_size
        if size != entry.get("bytes") or size > MAX_UNIT_FILE_BYTES:
            raise InputError.single(out, name, f"changed after it was written ({size:,} bytes;"
                                    f" manifest.json says {entry.get('bytes')})",
                                    f"{what}, unchanged (files of one run; write it again)")
        b = p.read_bytes()
        if _sha256(b) != entry["sha256"]:
            raise InputError.single(out, name, "changed after it was written (its checksum"
                                    " differs from manifest.json)", f"{what}, unchanged (files of one"
                                    " run; write it again)")
        data[name] = b
    return data


def _json_default(o: Any):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def safe_filename(name: str, default: str = "scenario") -> str:
    """A user-supplied name (e.g. a scenario's ``name``) as one safe path component: letters,
    digits, ``-``, ``_`` and ``.`` only (others become ``_``), no leading dots, at most 80
    characters. Never a path: ``../../x`` becomes ``x``."""
    keep = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else "_"
                   for c in str(name)).strip("._")
    return keep[:80] or default
