"""Download one catalogue file into the cache, so that only a verified, complete file ever
stands under its final name.

The bytes stream into a hidden temporary file in the destination folder (same file system, so
the final rename is atomic) while being hashed; the rename happens only after the length and the
pinned digest match. Any failure deletes the temporary file and raises a one-line FetchError.
Offline, a cached file is verified and used without any network access.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

from tinyperf.core import config
from tinyperf.core.console import console
from tinyperf.core.errors import TinyperfError
from tinyperf.fetch.catalog import Resource

ENV_MIRROR = "TINYPERF_MIRROR"
ENV_OFFLINE = "TINYPERF_OFFLINE"
RECORD_FILE = "digests.json"
CHUNK_BYTES = 1 << 16
TIMEOUT_S = 60.0


class FetchError(TinyperfError):
    """A download failed, was refused, or is impossible offline."""


@dataclass(frozen=True)
class Fetched:
    """A verified file in the cache and how it was trusted."""

    resource: Resource
    path: Path
    downloaded: bool  # False: the cached copy was verified and used
    sha256: str
    verified_by: str  # human-readable: which digest vouched for the bytes
    url: str | None = None  # where it came from (None when cached)
    first_use: bool = False  # the sha256 was recorded now, on first download (trust-on-first-use)


def mirror_base(option: str | None = None) -> str | None:
    """Base URL (or local folder) of a mirror: `--mirror`, else TINYPERF_MIRROR."""
    value = option or os.environ.get(ENV_MIRROR) or None
    if value and "://" not in value:  # a plain folder: serve it as file:// URLs
        return Path(value).expanduser().resolve().as_uri()
    return value


def offline_requested(option: bool = False) -> bool:
    return bool(option) or os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


def source_url(resource: Resource, mirror: str | None = None) -> str:
    """A mirror is a flat folder of catalogue file names; without one, the public URL."""
    base = mirror_base(mirror)
    if not base:
        return resource.url
    return f"{base.rstrip('/')}/{urllib.parse.quote(resource.name)}"


def download_progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=console)


# -- digests --------------------------------------------------------------------------------------

def hash_file(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def record_path() -> Path:
    return config.cache_dir() / RECORD_FILE


def load_records() -> dict[str, dict]:
    """sha256 digests recorded at download time, by file name (the trust-on-first-use store)."""
    path = record_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise FetchError(path, f"digest record is unreadable ({exc})",
                         "delete it; files without a pinned sha256 are then re-recorded on next download") from None
    return data if isinstance(data, dict) else {}


def _save_record(resource: Resource, sha256: str, size: int, url: str) -> None:
    records = load_records()
    records[resource.name] = {"sha256": sha256, "size": size, "url": url,
                              "pinned": bool(resource.sha256),
                              "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(fd, "w") as fh:
        json.dump(records, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def expected_sha256(resource: Resource, records: dict[str, dict] | None = None) -> tuple[str | None, str]:
    """The sha256 the file must have and where that comes from ("pinned" or "recorded")."""
    if resource.sha256:
        return resource.sha256, "pinned"
    recorded = (records if records is not None else load_records()).get(resource.name, {}).get("sha256")
    return (recorded, "recorded") if recorded else (None, "")


def mismatches(resource: Resource, sha256: str, md5: str,
               records: dict[str, dict] | None = None) -> list[tuple[str, str, str]]:
    """(algorithm, expected, actual) for every known digest the bytes fail."""
    bad = []
    want_sha, origin = expected_sha256(resource, records)
    if want_sha and want_sha != sha256:
        bad.append((f"sha256 ({origin})", want_sha, sha256))
    if resource.md5 and resource.md5 != md5:
        bad.append(("md5 (published)", resource.md5, md5))
    return bad


def _verified_by(resource: Resource, origin: str) -> str:
    parts = []
    if resource.sha256:
        parts.append("sha256 (pinned)")
    if resource.md5:
        parts.append("md5 (published)")
    if origin == "recorded":
        parts.append("sha256 (recorded on first download)")
    return " + ".join(parts)


def manual_hint(resource: Resource, dest: Path) -> str:
    """How to get the file without this command."""
    digest = (f"sha256 {resource.sha256}" if resource.sha256
              else f"md5 {resource.md5}" if resource.md5 else "no published digest")
    return f"download {resource.url} by hand and save it as {dest} ({digest})"


# -- fetching -------------------------------------------------------------------------------------

def fetch(resource: Resource, folder: Path, *, mirror: str | None = None, offline: bool = False,
          progress: Progress | None = None) -> Fetched:
    """The verified file `folder/resource.name`, downloading it unless a good copy is cached."""
    folder = Path(folder)
    dest = folder / resource.name
    records = load_records()
    if dest.is_file():
        sha256, md5 = hash_file(dest)
        bad = mismatches(resource, sha256, md5, records)
        want, origin = expected_sha256(resource, records)
        if not bad:
            if not want:  # cached by hand and never recorded: record it now, saying so
                _save_record(resource, sha256, dest.stat().st_size, str(dest))
                return Fetched(resource, dest, False, sha256,
                               _verified_by(resource, "") or "nothing (no digest published)",
                               first_use=True)
            return Fetched(resource, dest, False, sha256, _verified_by(resource, origin))
        algo, exp, act = bad[0]
        if offline_requested(offline):
            raise FetchError(dest, f"cached copy is corrupt: {algo} expected {exp}, got {act}",
                             "delete it and run without --offline to download it again")
        console.print(f"[yellow]cached {dest} is corrupt ({algo} expected {exp}, got {act}); "
                      "downloading it again[/]", highlight=False)
        dest.unlink()
    if offline_requested(offline):
        raise FetchError(dest, f"{resource.name} is not in the cache and offline mode forbids downloading",
                         f"run without --offline (and without {ENV_OFFLINE}), or {manual_hint(resource, dest)}")
    url = source_url(resource, mirror)
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if resource.size is not None and free < resource.size:
        raise FetchError(folder, f"{resource.name} needs {resource.size} bytes but only {free} are free",
                         f"free some space, or point {config.ENV_CACHE} at a larger disk")
    with _progress(progress) as bar:
        sha256, md5, size = _download(resource, url, dest, bar)
    _, origin = expected_sha256(resource, records)
    first_use = not resource.sha256 and origin != "recorded"
    _save_record(resource, sha256, size, url)
    if first_use:
        how = _verified_by(resource, "")
        verified = (f"{how}; sha256 recorded on first download" if how
                    else "nothing: no digest is published, sha256 recorded on first download (trust-on-first-use)")
    else:
        verified = _verified_by(resource, origin)
    return Fetched(resource, dest, True, sha256, verified, url, first_use)


@contextlib.contextmanager
def shared_progress() -> Iterator[Progress]:
    """One progress display for several fetches, shown only once something is downloaded."""
    bar = download_progress()
    try:
        yield bar
    finally:
        if bar.live.is_started:
            bar.stop()


@contextlib.contextmanager
def _progress(progress: Progress | None) -> Iterator[Progress]:
    if progress is None:
        with download_progress() as own:
            yield own
        return
    if not progress.live.is_started:
        progress.start()
    yield progress


def _download(resource: Resource, url: str, dest: Path, bar: Progress) -> tuple[str, str, int]:
    """Stream url into a temporary file beside dest; rename it to dest only once verified."""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            sha256, md5, size = _stream(resource, url, out, bar, dest)
        bad = mismatches(resource, sha256, md5)
        if bad:
            algo, exp, act = bad[0]
            accept = (f"delete its entry in {record_path()} to accept the new file" if "recorded" in algo
                      else "report it so the pin can be reviewed")
            raise FetchError(url, f"{algo} mismatch for {resource.name}: expected {exp}, got {act}; "
                             "the download was deleted",
                             "the server sent different bytes: retry, try another --mirror, or, if the "
                             f"upstream file really changed, {accept}")
        os.replace(tmp, dest)
        return sha256, md5, size
    finally:
        tmp.unlink(missing_ok=True)


def _stream(resource: Resource, url: str, out, bar: Progress, dest: Path) -> tuple[str, str, int]:
    request = urllib.request.Request(url, headers={"User-Agent": "tinyperf-fetch"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 (http, https, file)
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"server answered HTTP {exc.code} {exc.reason}; nothing was saved",
                         _fix_for_source(resource, dest)) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(url, f"cannot download ({reason}); nothing was saved",
                         _fix_for_source(resource, dest)) from None
    with response:
        declared = _content_length(response)
        if declared is not None and resource.size is not None and declared != resource.size:
            raise FetchError(url, f"server offers {declared} bytes but {resource.name} is {resource.size} bytes; "
                             "refused without downloading", _fix_for_source(resource, dest))
        total = declared if declared is not None else resource.size
        task = bar.add_task(resource.name, total=total)
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        got = 0
        read = getattr(response, "read1", response.read)  # read1: whatever has arrived, so progress moves
        try:
            while True:
                block = read(CHUNK_BYTES)
                if not block:
                    break
                got += len(block)
                if total is not None and got > total:
                    raise FetchError(url, f"server sent more than the {total} bytes expected; the download was deleted",
                                     _fix_for_source(resource, dest))
                out.write(block)
                sha.update(block)
                md5.update(block)
                bar.update(task, advance=len(block))
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(url, f"transfer interrupted after {got} of {total or '?'} bytes ({exc or type(exc).__name__}); "
                             "nothing was saved", "run the command again (the download restarts), or use --mirror") from None
        if total is not None and got < total:
            raise FetchError(url, f"transfer truncated: connection closed after {got} of {total} bytes; "
                             "nothing was saved", "run the command again (the download restarts), or use --mirror")
    return sha.hexdigest(), md5.hexdigest(), got


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _fix_for_source(resource: Resource, dest: Path) -> str:
    return (f"check the network or the mirror (it must serve {resource.name} at <mirror>/{resource.name}; "
            f"--mirror or {ENV_MIRROR}), or {manual_hint(resource, dest)}")
