"""vww01 sets from two image folders: person and non-person.

Folder names are matched case-insensitively: `person`, `persons`, `1` for label 1 and
`non_person`, `non-person`, `nonperson`, `no_person`, `no-person`, `noperson`, `not_person`, `0`
for label 0 (the source itself or its only sub-folder may hold them, e.g. vw_coco2014_96/).
COCO file names lose their prefix the way the official vww01 files are named
(`COCO_val2014_000000343218.jpg` -> `000000343218.bin`); other images keep their stem.
"""

from __future__ import annotations

import re
from pathlib import Path

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders.progress import BuildProgress
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.frontends import vww
from tinyperf.workloads.frontends.image import IMAGE_SUFFIXES

PERSON = {"person", "persons", "1"}
NON_PERSON = {"non_person", "non-person", "nonperson", "no_person", "no-person", "noperson", "not_person", "0"}
_COCO = re.compile(r"^COCO_(?:train|val)\d{4}_(?P<id>\d{12})$")


def output_name(path: Path) -> str:
    m = _COCO.match(path.stem)
    return f"{m['id'] if m else path.stem}.bin"


def _class_folders(root: Path) -> list[tuple[Path, int]]:
    if not root.is_dir():
        return []
    found = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        name = d.name.lower()
        if name in PERSON or name in NON_PERSON:
            found.append((d, 1 if name in PERSON else 0))
    return found


def find_images(source: Path) -> list[tuple[Path, int]]:
    folders = _class_folders(source)
    if not folders:
        subdirs = [d for d in source.iterdir() if d.is_dir()]
        if len(subdirs) == 1:
            folders = _class_folders(subdirs[0])
    images = [(p, label) for d, label in folders for p in d.iterdir()
              if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    if not images:
        raise DatasetError(source, "holds no vww01 images (looked for person/ and non_person/ sub-folders "
                           "with .jpg/.png files)", "point --from at a folder with person/ and non_person/ image folders")
    return sorted(images, key=lambda item: output_name(item[0]))


def build(source: Path, writer: SetWriter, progress: bool = True) -> str:
    images = find_images(source)
    with BuildProgress("vww01 <- image folders", len(images), progress) as bar:
        for path, label in images:
            writer.add(output_name(path), vww.sample_bytes(path), label)
            bar.advance()
    return "person / non-person image folders"
