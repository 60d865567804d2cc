"""Unpack a verified source archive into the cache, all or nothing.

Members go into a hidden temporary folder beside the destination, which is renamed into place
only when every member is out; a marker holding the archive's sha256 says the folder is complete
and from which archive, so a second `fetch dataset` skips the work and a new archive redoes it.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tinyperf.core.console import console
from tinyperf.fetch.download import FetchError

MARKER = ".tinyperf-extracted"


def extracted_from(folder: Path) -> str | None:
    """sha256 of the archive a complete extraction came from, or None."""
    try:
        return (folder / MARKER).read_text().strip() or None
    except OSError:
        return None


def _wanted(name: str, members: tuple[str, ...]) -> bool:
    clean = str(PurePosixPath(name.lstrip("./")))
    return not members or any(clean == m.rstrip("/") or clean.startswith(m) for m in members)


def extract(archive: Path, dest: Path, archive_sha256: str, members: tuple[str, ...] = ()) -> Path:
    """`dest` holding the chosen members of `archive` (path prefixes; empty = everything)."""
    if extracted_from(dest) == archive_sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"))
    try:
        count = _unpack(archive, tmp, members)
        if count == 0:
            raise FetchError(archive, f"holds none of the expected members ({', '.join(members)})",
                             "is it the right archive? delete it and fetch again")
        (tmp / MARKER).write_text(archive_sha256 + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console)


def _unpack(archive: Path, into: Path, members: tuple[str, ...]) -> int:
    try:
        if zipfile.is_zipfile(archive):
            return _unzip(archive, into, members)
        return _untar(archive, into, members)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise _damaged(archive, exc) from None
    except OSError as exc:
        if exc.errno is None:  # gzip.BadGzipFile and other format errors
            raise _damaged(archive, exc) from None
        raise FetchError(into.parent, f"cannot write the extracted files ({exc.strerror})",
                         "free some space or fix the cache folder's permissions") from None


def _damaged(archive: Path, exc: Exception) -> FetchError:
    return FetchError(archive, f"archive is damaged, unsafe or not a tar/zip file ({exc or type(exc).__name__})",
                      "delete it and run the fetch again")


def _untar(archive: Path, into: Path, members: tuple[str, ...]) -> int:
    with tarfile.open(archive, "r:*") as tar:
        chosen = [m for m in tar.getmembers() if (m.isfile() or m.isdir()) and _wanted(m.name, members)]
        with _progress() as bar:
            task = bar.add_task(f"extract {archive.name}", total=len(chosen))
            for member in chosen:
                _extract_member(tar, member, into)
                bar.advance(task)
    return sum(1 for m in chosen if m.isfile())


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, into: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        # the "data" filter refuses absolute paths, '..', links out of the folder and devices
        tar.extract(member, into, filter="data")
        return
    target = (into / member.name).resolve()  # Python without extraction filters: check by hand
    if not target.is_relative_to(into.resolve()):
        raise tarfile.TarError(f"member {member.name!r} would be written outside the folder")
    tar.extract(member, into)


def _unzip(archive: Path, into: Path, members: tuple[str, ...]) -> int:
    with zipfile.ZipFile(archive) as zf:
        chosen = [i for i in zf.infolist() if not i.is_dir() and _wanted(i.filename, members)]
        with _progress() as bar:
            task = bar.add_task(f"extract {archive.name}", total=len(chosen))
            for info in chosen:
                zf.extract(info, into)  # zipfile drops absolute paths and '..' components
                bar.advance(task)
    return len(chosen)
