"""kws01 sets from Speech Commands v2 audio.

Sources, tried in this order:
1. a flat folder of clips with a labels CSV (`--labels`, or `labels.csv` inside the folder):
   `file,label_index,label_name` with a header (as in the clips behind the official kws01 set),
   or header-less `file,label` where label is an index 0..11 or a word. Output names keep the clip
   stems (`tst_000000_Stop_7.wav` -> `tst_000000_Stop_7.bin`) and the CSV's order;
2. a Speech Commands folder with one sub-folder per word (the folder itself or its only child):
   - the official test archive (speech_commands_test_set_v0.02: folders for the 10 keywords plus
     `_silence_` and `_unknown_`, no testing_list.txt): every clip. This is the set the MLPerf
     reference evaluated on (tfds `speech_commands` test split); the official kws01 files are 1000
     clips of it in tfds order, which a folder cannot reproduce - hence mode 1 for exact rebuilds;
   - the main archive (speech_commands_v0.02 with testing_list.txt): the clips listed in
     testing_list.txt. Keywords keep their class, every other word becomes `unknown` (all of them:
     the set is unknown-heavy, about 60 %), `_silence_` clips are silence, and, following tfds,
     the `_background_noise_` recordings are cut into 1 s silence clips at a 0.5 s hop.
   Output names are `<word>_<clip stem>.bin` (background pieces: `background_<stem>_<start>.bin`),
   in sorted path order.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders.progress import BuildProgress
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.catalog import KWS01
from tinyperf.workloads.frontends import kws
from tinyperf.workloads.frontends.audio import AUDIO_SUFFIXES, SAMPLE_RATE, read_wav

SILENCE, UNKNOWN = 10, 11
KEYWORDS = {name: i for i, name in enumerate(KWS01.labels[:SILENCE])}
SILENCE_WORDS = {"_silence_", "silence"}
UNKNOWN_WORDS = {"_unknown_", "unknown"}
BACKGROUND = "_background_noise_"
TESTING_LIST = "testing_list.txt"
LABELS_CSV = "labels.csv"
BATCH = 64  # clips per vectorised MFCC step


@dataclass(frozen=True)
class Clip:
    path: Path
    name: str  # output .bin file name
    label: int
    start: int | None = None  # background-noise piece: first sample of the 1 s window


def label_of_word(word: str) -> int:
    """The kws01 class of a Speech Commands word or folder name (other words are `unknown`)."""
    w = word.strip().lower()
    if w in KEYWORDS:
        return KEYWORDS[w]
    if w in SILENCE_WORDS or w == BACKGROUND:
        return SILENCE
    return UNKNOWN


def _is_wav(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")


def _parse_label(value: str, name: str | None, where: str) -> int:
    value = value.strip()
    try:
        label = int(value)
    except ValueError:
        return label_of_word(value)
    if not 0 <= label < len(KWS01.labels):
        raise DatasetError(where, f"label {label} is outside 0..{len(KWS01.labels) - 1}",
                           f"use the kws01 order: {', '.join(KWS01.labels)}")
    if name and name.strip() and label_of_word(name) != label:
        raise DatasetError(where, f"label index {label} ({KWS01.labels[label]}) disagrees with label name '{name.strip()}'",
                           "fix the row")
    return label


def clips_from_labels_csv(labels: Path, root: Path) -> list[Clip]:
    """Clips listed in a labels CSV, in its order; paths are relative to `root` (or the CSV's folder)."""
    if not labels.is_file():
        raise DatasetError(labels, "no such labels CSV", "pass --labels FILE with rows 'file,label_index,label_name'")
    with labels.open(newline="") as fh:
        rows = [(n, r) for n, r in enumerate(csv.reader(fh), start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise DatasetError(labels, "is empty", "add one row per clip: 'file,label_index,label_name'")
    file_col, label_col, name_col = 0, 1, 2
    header = [c.strip().lower() for c in rows[0][1]]
    if header[0] in {"file", "filename", "fname", "path", "wav"}:
        rows = rows[1:]
        pick = {h: i for i, h in enumerate(header)}
        label_col = next((pick[h] for h in ("label_index", "label", "index", "class") if h in pick), 1)
        name_col = next((pick[h] for h in ("label_name", "word", "name") if h in pick and pick[h] != label_col), -1)
    clips: list[Clip] = []
    for lineno, row in rows:
        where = f"{labels}:{lineno}"
        if len(row) <= label_col:
            raise DatasetError(where, f"row {row!r} has no label column", "rows are 'file,label_index,label_name'")
        rel = row[file_col].strip()
        path = next((p for p in (root / rel, labels.parent / rel) if p.is_file()), None)
        if path is None:
            raise DatasetError(where, f"names '{rel}', which is not in {root}", "restore the clip or delete its row")
        name = row[name_col] if 0 <= name_col < len(row) else None
        clips.append(Clip(path, f"{Path(rel).stem}.bin", _parse_label(row[label_col], name, where)))
    return clips


def _word_dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _looks_like_speech_commands(folder: Path) -> bool:
    names = {d.name.lower() for d in _word_dirs(folder)}
    return bool(names & (set(KEYWORDS) | SILENCE_WORDS | UNKNOWN_WORDS | {BACKGROUND}))


def _background_pieces(path: Path) -> Iterator[Clip]:
    """1 s pieces at a 0.5 s hop, as tfds cuts `_background_noise_` into silence examples."""
    n = read_wav(path).size
    for start in range(0, n - SAMPLE_RATE, SAMPLE_RATE // 2):
        yield Clip(path, f"background_{path.stem}_{start}.bin", SILENCE, start)


def clips_from_folders(root: Path, include_background: bool = True) -> list[Clip]:
    """Clips of a Speech Commands word-folder tree (see the module docstring for the conventions)."""
    testing = root / TESTING_LIST
    clips: list[Clip] = []
    if testing.is_file():
        listed = [line.strip() for line in testing.read_text().splitlines() if line.strip()]
        for rel in sorted(listed):
            path = root / rel
            if not path.is_file():
                raise DatasetError(f"{testing}", f"lists '{rel}', which is not in {root}",
                                   "unpack the whole archive, or remove the line")
        silence = sorted(p for d in _word_dirs(root) if d.name.lower() in SILENCE_WORDS for p in d.iterdir() if _is_wav(p))
        word_paths = list(dict.fromkeys([root / rel for rel in sorted(listed)] + silence))
    else:
        word_paths = sorted(p for d in _word_dirs(root) if d.name != BACKGROUND for p in d.iterdir() if _is_wav(p))
    for path in word_paths:
        word = path.parent.name
        clips.append(Clip(path, f"{word.strip('_')}_{path.stem}.bin", label_of_word(word)))
    if include_background and (root / BACKGROUND).is_dir():
        for path in sorted(p for p in (root / BACKGROUND).iterdir() if _is_wav(p)):
            clips.extend(_background_pieces(path))
    return clips


def find_clips(source: Path, labels: Path | None = None) -> tuple[list[Clip], str]:
    """The clips to build from `source`, and a short description of how they were found."""
    if labels is not None:
        return clips_from_labels_csv(labels, source), f"labels CSV {labels.name}"
    if (source / LABELS_CSV).is_file():
        return clips_from_labels_csv(source / LABELS_CSV, source), f"labels CSV {LABELS_CSV}"
    candidates = [source] + _word_dirs(source)
    for root in candidates:
        if _looks_like_speech_commands(root):
            clips = clips_from_folders(root)
            if clips:
                kind = "Speech Commands testing_list.txt" if (root / TESTING_LIST).is_file() else "Speech Commands word folders"
                return clips, kind
    raise DatasetError(source, "holds no Speech Commands clips (no labels.csv, no word sub-folders such as "
                       "yes/, no/, _silence_/ with .wav files)",
                       "point --from at the unpacked Speech Commands folder, or pass --labels CSV for a flat folder of clips")


def _chunks(items: Sequence[Clip], size: int) -> Iterator[Sequence[Clip]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def build(source: Path, writer: SetWriter, labels: Path | None = None, progress: bool = True) -> str:
    """Write every clip's MFCC sample into `writer`; returns the source description."""
    clips, kind = find_clips(source, labels)
    loaded: dict[Path, np.ndarray] = {}  # background recordings, read once for all their pieces

    def samples(clip: Clip) -> np.ndarray:
        if clip.start is None:
            return read_wav(clip.path)
        if clip.path not in loaded:
            loaded[clip.path] = read_wav(clip.path)
        return loaded[clip.path][clip.start:clip.start + SAMPLE_RATE]

    with BuildProgress(f"kws01 <- {kind}", len(clips), progress) as bar:
        for batch in _chunks(clips, BATCH):
            features = kws.features_batch([samples(c) for c in batch], [c.path for c in batch])
            for clip, feature in zip(batch, features):
                writer.add(clip.name, feature.tobytes(), clip.label)
            bar.advance(len(batch))
    return kind
