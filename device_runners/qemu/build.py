"""Build the DUT firmware: TFLM + the model's kernels (+ CMSIS-NN) + the official API, one ELF.

Not TFLM's Makefile (it compiles every kernel: 21 min on 2 cores). The sources are chosen by
following `#include`s from the interpreter, the model's kernels and the firmware's own files
(a header `X.h` in TFLM brings `X.cc`, a kernel header its `X_common.cc`), then the CMSIS-NN
functions those objects call (by their undefined symbols). Each object is cached by the hash of
its compiler, flags, source and headers, and a finished image by the hash of all of that plus the
model and link flags, so a warm build only hashes. The build record (`build.json` beside the ELF)
says what was built and how much flash and RAM it takes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinyperf.device_runners.qemu.ops import OPS
from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.spec import Workload

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
KERNELS = ("cmsis-nn", "reference")
CC = "arm-none-eabi-gcc"
CXX = "arm-none-eabi-g++"
NM = "arm-none-eabi-nm"
TOOLCHAIN_FIX = ("install the Arm toolchain: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                 "libstdc++-arm-none-eabi-newlib")
#: the CMSIS-NN file whose rescale rounds twice unless told otherwise (LiteRT's reference FC rounds once)
SINGLE_ROUNDING_FILE = "Source/NNSupportFunctions/arm_nn_vec_mat_mult_t_s8.c"
_INCLUDE = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.M)
_SAMPLE_DTYPES = {"int8": "TP_DTYPE_INT8", "uint8": "TP_DTYPE_UINT8", "<f4": "TP_DTYPE_FLOAT32"}
_TFLITE_TYPE_BYTES = {"int8": 1, "uint8": 1, "int16": 2, "float32": 4, "int32": 4}


@dataclass(frozen=True)
class FirmwareSources:
    """Unpacked source trees by catalog key (tflite-micro, cmsis-nn, ...) and their versions."""

    roots: dict[str, Path]
    versions: dict[str, str]


@dataclass(frozen=True)
class BuildOptions:
    workload: Workload
    model: Path
    kernels: str = "cmsis-nn"
    single_rounding: bool = False  # CMSIS-NN FC rescale rounded once: equal to LiteRT's reference kernels
    machine: str = "mps2-an386"
    mode: str = "performance"  # or "energy" (EE_CFG_ENERGY_MODE=1: the timestamp is a GPIO pulse)
    fault_at_infer: int | None = None  # a deliberately faulting image: trap on this th_infer call
    arena_bytes: int | None = None  # a fixed arena; default: all RAM left between static data and stack


@dataclass
class FirmwareImage:
    elf: Path
    record: dict[str, Any]
    cached: bool  # True when the image came from the cache untouched


@dataclass
class _Unit:
    source: Path
    lang: str  # "c", "cxx" or "asm"
    flags: list[str]
    deps: list[Path] = field(default_factory=list)


def load_description() -> dict[str, Any]:
    with open(FIRMWARE_DIR / "build.toml", "rb") as fh:
        return tomllib.load(fh)


def machines() -> dict[str, dict[str, Any]]:
    return load_description()["machines"]


def compiler_version() -> str:
    """`arm-none-eabi-gcc --version`'s first line; a missing toolchain is one clear error."""
    if shutil.which(CC) is None or shutil.which(CXX) is None:
        raise TinyperfError(CC, "not found on PATH", TOOLCHAIN_FIX)
    out = subprocess.run([CC, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return out.splitlines()[0].strip()


# -- the model -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFacts:
    ops: tuple[str, ...]  # builtin op names, in first-use order
    input_dtype: str
    input_bytes: int
    input_elements: int
    output_dtype: str
    output_elements: int
    output_element_bytes: int
    arena_lower_bound: int  # the largest live activation set of one op: no arena can be smaller
    sha256: str
    size: int


def model_facts(path: Path) -> ModelFacts:
    """Ops and I/O of a .tflite, from LiteRT's parser (the firmware's resolver needs the ops)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_path=str(path))
    except (ValueError, RuntimeError) as exc:
        raise TinyperfError(path, f"not a model LiteRT can read ({str(exc).splitlines()[0]})",
                            "pass an int8 .tflite file") from None
    ops = interp._get_ops_details()  # noqa: SLF001 - the public API lists no ops
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    names: list[str] = []
    for op in ops:
        if op["op_name"] not in names:
            names.append(op["op_name"])
    # activations are graph inputs and op outputs; every other op input is a constant in flash
    activations = {int(d["index"]) for d in interp.get_input_details()}
    for op in ops:
        activations.update(int(i) for i in op["outputs"] if int(i) >= 0)
    lower = 0
    for op in ops:
        live = {int(i) for i in list(op["inputs"]) + list(op["outputs"]) if int(i) in activations}
        lower = max(lower, sum(_tensor_bytes(tensors[i]) for i in live if i in tensors))
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    data = path.read_bytes()
    return ModelFacts(
        ops=tuple(names), input_dtype=np.dtype(inp["dtype"]).name, input_bytes=int(np.prod(inp["shape"])) *
        np.dtype(inp["dtype"]).itemsize, input_elements=int(np.prod(inp["shape"])),
        output_dtype=np.dtype(out["dtype"]).name, output_elements=int(np.prod(out["shape"])),
        output_element_bytes=np.dtype(out["dtype"]).itemsize, arena_lower_bound=lower,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _tensor_bytes(tensor: dict[str, Any]) -> int:
    return int(np.prod(tensor["shape"])) * np.dtype(tensor["dtype"]).itemsize if len(tensor["shape"]) else 0


# -- source selection ------------------------------------------------------------------------
class _Tree:
    """Resolves quoted includes against the include path and follows them to sources."""

    def __init__(self, include_dirs: list[Path], tflm_root: Path, used_stems: set[str], exclude: list[str]):
        self.include_dirs = include_dirs
        self.exclude = {(tflm_root / e).resolve() for e in exclude}
        self.tflm = tflm_root
        self.kernel_dir = tflm_root / "tensorflow/lite/micro/kernels"
        self.used_stems = used_stems
        self._includes: dict[Path, list[Path]] = {}

    def includes(self, path: Path) -> list[Path]:
        if path not in self._includes:
            found = []
            for name in _INCLUDE.findall(path.read_bytes()):
                rel = name.decode()
                for base in (path.parent, *self.include_dirs):
                    cand = base / rel
                    if cand.is_file():
                        found.append(cand.resolve())
                        break
            self._includes[path] = found
        return self._includes[path]

    def sources_for_header(self, header: Path) -> list[Path]:
        """TFLM sources a header brings: X.h -> X.cc; a kernel header -> its X_common.cc."""
        if not header.is_relative_to(self.tflm) or header.suffix != ".h":
            return []
        stem, folder = header.stem, header.parent
        if folder == self.kernel_dir or folder == self.kernel_dir / "cmsis_nn":
            out = []
            if stem in self.used_stems or not self._is_op(stem):
                common = self.kernel_dir / f"{stem}_common.cc"
                if common.is_file():
                    out.append(common)
            if not self._is_op(stem) and (self.kernel_dir / f"{stem}.cc").is_file():
                out.append(self.kernel_dir / f"{stem}.cc")
            return out
        cc = folder / f"{stem}.cc"
        return [cc] if cc.is_file() and not cc.name.endswith("_test.cc") and cc not in self.exclude else []

    def _is_op(self, stem: str) -> bool:
        cc = self.kernel_dir / f"{stem}.cc"
        return cc.is_file() and b"Register_" in cc.read_bytes()

    def closure(self, roots: list[Path]) -> tuple[list[Path], dict[Path, list[Path]]]:
        """All sources reached from `roots`, and each one's headers (for its cache key)."""
        sources: list[Path] = []
        deps: dict[Path, list[Path]] = {}
        todo = [r.resolve() for r in roots]
        seen_src: set[Path] = set()
        while todo:
            src = todo.pop()
            if src in seen_src:
                continue
            seen_src.add(src)
            sources.append(src)
            headers: list[Path] = []
            stack, seen = list(self.includes(src)), set()
            while stack:
                h = stack.pop()
                if h in seen:
                    continue
                seen.add(h)
                headers.append(h)
                stack.extend(self.includes(h))
                todo.extend(s for s in self.sources_for_header(h) if s.resolve() not in seen_src)
            deps[src] = sorted(headers)
        return sorted(sources), deps


def kernel_source(tflm: Path, stem: str, kernels: str) -> Path:
    kdir = tflm / "tensorflow/lite/micro/kernels"
    if kernels == "cmsis-nn" and (kdir / "cmsis_nn" / f"{stem}.cc").is_file():
        return kdir / "cmsis_nn" / f"{stem}.cc"
    return kdir / f"{stem}.cc"


# -- the build -------------------------------------------------------------------------------
def build_firmware(options: BuildOptions, sources: FirmwareSources, out_dir: Path, *, jobs: int = 2,
                   log: Callable[[str], None] = lambda _m: None) -> FirmwareImage:
    """The firmware ELF for `options`, from the cache when nothing that goes into it changed."""
    started = time.monotonic()
    desc = load_description()
    if options.machine not in desc["machines"]:
        raise TinyperfError("--machine", f"unknown machine '{options.machine}'",
                            f"use one of {', '.join(desc['machines'])}")
    if options.kernels not in KERNELS:
        raise TinyperfError("--kernels", f"'{options.kernels}' is not a firmware kernel choice",
                            f"use one of {', '.join(KERNELS)}")
    if options.single_rounding and options.kernels != "cmsis-nn":
        raise TinyperfError("--single-rounding", "is a CMSIS-NN option (its fully connected rescale)",
                            "use it with --kernels cmsis-nn")
    missing = [k for k in desc["includes"] if k not in sources.roots]
    if missing:
        raise TinyperfError(None, f"firmware sources missing: {', '.join(missing)}",
                            "run `tinyperf fetch firmware-sources`")
    machine = desc["machines"][options.machine]
    compiler = compiler_version()
    _PLACES.update({str(p.resolve()): f"<{k}>" for k, p in sources.roots.items()})
    _PLACES[str(FIRMWARE_DIR)] = "<firmware>"
    model = Path(options.model)
    facts = model_facts(model)
    _check_model(options, facts)

    out_dir.mkdir(parents=True, exist_ok=True)
    objects_dir = out_dir / "objects"
    objects_dir.mkdir(exist_ok=True)
    gen = Path(tempfile.mkdtemp(prefix=".gen.", dir=out_dir))
    try:
        units, link_flags, ld_script = _plan(options, sources, desc, machine, facts, gen, compiler)
        keys = {u.source: _object_key(u, compiler) for u in units}
        image_key = _hash([compiler, *sorted(keys.values()), *link_flags, ld_script.read_bytes(),
                           json.dumps(sources.versions, sort_keys=True)])
        image_dir = out_dir / "images" / image_key[:24]
        elf = image_dir / "firmware.elf"
        if elf.is_file() and (image_dir / "build.json").is_file():
            record = json.loads((image_dir / "build.json").read_text())
            return FirmwareImage(elf, record, cached=True)
        objects = _compile_all(units, keys, objects_dir, jobs, log)
        objects += _cmsis_nn_objects(options, sources, desc, machine, objects, objects_dir, compiler, jobs, log)
        record = _link(options, objects, link_flags, ld_script, image_dir, machine, facts, log)
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    record.update(_describe(options, sources, desc, machine, facts, compiler, image_key))
    record["build_seconds"] = round(time.monotonic() - started, 2)
    (image_dir / "build.json").write_text(json.dumps(record, indent=2) + "\n")
    return FirmwareImage(elf, record, cached=False)


def _check_model(options: BuildOptions, facts: ModelFacts) -> None:
    wl = options.workload
    unknown = [op for op in facts.ops if op not in OPS]
    if unknown:
        raise TinyperfError(options.model, f"uses ops the firmware's resolver does not have: {', '.join(unknown)}",
                            "use a model made of " + ", ".join(sorted(OPS)) + " (or add the op to "
                            "device_runners/qemu/ops.py)")
    if facts.input_elements * _element(wl) != wl.upload_bytes:
        raise TinyperfError(options.model, f"takes {facts.input_elements} input values; {wl.id} uploads "
                            f"{wl.upload_bytes // _element(wl)}", f"pass a model with {wl.id}'s input shape "
                            f"{list(wl.input_shape)}")
    if facts.input_dtype not in ("int8", "uint8", "float32") or facts.output_dtype not in ("int8", "uint8", "float32"):
        raise TinyperfError(options.model, f"has {facts.input_dtype} input / {facts.output_dtype} output",
                            "convert it with int8 (or uint8/float32) input and output")


def _element(wl: Workload) -> int:
    return np.dtype(wl.encoding.dtype).itemsize


def _hash(parts: list[Any]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def _includes(desc: dict[str, Any], sources: FirmwareSources, gen: Path) -> list[Path]:
    dirs = [gen, FIRMWARE_DIR / "board", FIRMWARE_DIR / "dut"]
    for key, folders in desc["includes"].items():
        dirs.extend((sources.roots[key] / f).resolve() for f in folders)
    return dirs


def _plan(options: BuildOptions, sources: FirmwareSources, desc: dict[str, Any], machine: dict[str, Any],
          facts: ModelFacts, gen: Path, compiler: str) -> tuple[list[_Unit], list[str], Path]:
    flags = desc["flags"]
    tflm = sources.roots["tflite-micro"].resolve()
    include_dirs = _includes(desc, sources, gen)
    stems = {OPS[op].stem for op in facts.ops}
    _write_config(options, sources, desc, machine, facts, gen, compiler)
    (gen / "tp_model.S").write_text(
        '  .section .rodata.tp_model, "a"\n  .balign 16\n  .global tp_model\ntp_model:\n'
        f'  .incbin "{Path(options.model).resolve()}"\n  .balign 4\n')
    tree = _Tree(include_dirs, tflm, stems, desc["tflite-micro"]["exclude"])
    roots = [FIRMWARE_DIR / "dut" / "submitter_implemented.cpp"]
    roots += [kernel_source(tflm, s, options.kernels) for s in sorted(stems)]
    roots += [sources.roots["mlperf-tiny-api"] / s for s in desc["api"]["sources"]]
    found, deps = tree.closure(roots)
    base = [*machine["cpu_flags"], *flags["common"], *[f"-I{d}" for d in include_dirs]]
    if options.kernels == "cmsis-nn":
        base += flags["cmsis_nn"]
    workload_defs = [f"-DTH_MODEL_VERSION=EE_MODEL_VERSION_{options.workload.id.upper()}",
                     f"-DEE_CFG_ENERGY_MODE={1 if options.mode == 'energy' else 0}"]
    units = []
    kernel_dirs = (tflm / "tensorflow/lite/micro/kernels", tflm / "tensorflow/lite/kernels")
    for src in found:
        lang = "c" if src.suffix == ".c" else "cxx"
        opt = flags["kernel_opt"] if any(src.is_relative_to(k) for k in kernel_dirs) else flags["core_opt"]
        extra = []
        if not src.is_relative_to(tflm):  # the firmware's own files and the official API
            opt = flags["kernel_opt"] if src.is_relative_to(FIRMWARE_DIR) else flags["core_opt"]
            extra = workload_defs
            if options.fault_at_infer is not None:
                extra = extra + [f"-DTP_FAULT_AT_INFER={options.fault_at_infer}"]
        units.append(_Unit(src, lang, base + flags[lang] + [opt] + extra, deps[src]))
    board = FIRMWARE_DIR / machine["board"]
    units.append(_Unit(board, "c", base + flags["c"] + [flags["kernel_opt"]], [FIRMWARE_DIR / "board" / "board.h"]))
    model_unit = _Unit(gen / "tp_model.S", "asm", list(machine["cpu_flags"]), [Path(options.model).resolve()])
    units.append(model_unit)
    for u in units:  # the generated config is content, not a path: key it by its bytes
        u.deps = [d for d in u.deps]
    arena_min = options.arena_bytes if options.arena_bytes is not None else facts.arena_lower_bound
    link = [*machine["cpu_flags"], *flags["link"], f"-Wl,--defsym=__stack_size={machine['stack_bytes']}",
            f"-Wl,--defsym=__heap_size={machine['heap_bytes']}", f"-Wl,--defsym=__arena_min={arena_min}"]
    return units, link, FIRMWARE_DIR / machine["linker_script"]


def _c_string(text: str) -> str:
    return json.dumps(text)


def _write_config(options: BuildOptions, sources: FirmwareSources, desc: dict[str, Any], machine: dict[str, Any],
                  facts: ModelFacts, gen: Path, compiler: str) -> None:
    wl = options.workload
    enc = wl.encoding
    calls = " ".join(f"r.{OPS[op].resolver_call}();" for op in facts.ops)
    info = _info(options, sources, desc, machine, facts, compiler)
    lines = [
        "/* generated by device_runners/qemu/build.py for one workload and model */",
        "#pragma once",
        "#define TP_DTYPE_INT8 0", "#define TP_DTYPE_UINT8 1", "#define TP_DTYPE_FLOAT32 2",
        f"#define TP_OP_COUNT {len(facts.ops)}",
        f"#define TP_ADD_OPS(r) do {{ {calls} }} while (0)",
        f"#define TP_UPLOAD_BYTES {wl.upload_bytes}",
        f"#define TP_SAMPLE_SIZE {_element(wl)}",
        f"#define TP_SAMPLE_DTYPE {_SAMPLE_DTYPES[enc.dtype]}",
        f"#define TP_SAMPLE_SCALE ((float){float(enc.scale)!r})",
        f"#define TP_SAMPLE_OFFSET ((float){float(enc.offset)!r})",
        f"#define TP_INPUT_ELEMENTS {facts.input_elements}",
        f"#define TP_INPUT_BYTES {facts.input_bytes}",
        f"#define TP_OUTPUT_ELEMENTS {facts.output_elements}",
        f"#define TP_OUTPUT_ELEMENT_BYTES {facts.output_element_bytes}",
        # a scoring that reports one value for a vector output is the anomaly detector's window MSE
        f"#define TP_RESULT_MSE {1 if wl.n_results == 1 and facts.output_elements > 1 else 0}",
        "#define TP_INFO_LIST " + " ".join(f"X({_c_string(k)}, {_c_string(v)})" for k, v in info.items()),
    ]
    (gen / "tp_config.h").write_text("\n".join(lines) + "\n")


def _info(options: BuildOptions, sources: FirmwareSources, desc: dict[str, Any], machine: dict[str, Any],
          facts: ModelFacts, compiler: str) -> dict[str, str]:
    """What the firmware says about itself on `tinyperf-info%` (the serial runner records it)."""
    return {
        "workload": options.workload.id,
        "model-sha256": facts.sha256,
        "model-bytes": str(facts.size),
        "kernels": options.kernels,
        "fc-rounding": "single (CMSIS_NN_USE_SINGLE_ROUNDING)" if options.single_rounding else "as shipped",
        "timing": (f"emulated: qemu-system-arm -icount shift={machine['icount_shift']} "
                   f"({_nominal_rate(machine)}), not a real board's cycles"),
        "compiler": compiler,
        "cflags": " ".join([*machine["cpu_flags"][:3], f"core {desc['flags']['core_opt']}",
                            f"kernels {desc['flags']['kernel_opt']}"]),
        "tflm": sources.versions.get("tflite-micro", "?"),
        "cmsis-nn": sources.versions.get("cmsis-nn", "?") if options.kernels == "cmsis-nn" else "not used",
        "mlperf-tiny-api": sources.versions.get("mlperf-tiny-api", "?"),
    }


def _nominal_rate(machine: dict[str, Any]) -> str:
    ns = 2 ** int(machine["icount_shift"])
    return f"1 instruction = {ns} ns, {1000 // ns} M instructions/s nominal"


_PLACES: dict[str, str] = {}  # absolute source-tree path -> placeholder, so a moved cache keeps its objects


def _object_key(unit: _Unit, compiler: str) -> str:
    # generated files live in a fresh folder each build: key them by content, not by that path
    flags = [re.sub(r"/\.gen\.[^/]+", "/<gen>", f) for f in unit.flags]
    for path, place in _PLACES.items():
        flags = [f.replace(path, place) for f in flags]
    parts: list[Any] = [compiler, unit.lang, *flags, _place(unit.source), unit.source.read_bytes()]
    for name, dep in sorted((_place(d), d) for d in unit.deps):
        parts += [name, dep.read_bytes()]
    return _hash(parts)


def _place(path: Path) -> str:
    """A path with its source tree replaced by the tree's key: the same file anywhere keys the same."""
    text = re.sub(r"^.*/\.gen\.[^/]+", "<gen>", str(path))
    for root, place in _PLACES.items():
        if text.startswith(root + "/"):
            return place + text[len(root):]
    return text


def _compile_cmd(unit: _Unit, obj: Path) -> list[str]:
    tool = CXX if unit.lang == "cxx" else CC
    lang = ["-x", "assembler-with-cpp"] if unit.lang == "asm" else []
    return [tool, *unit.flags, *lang, "-c", str(unit.source), "-o", str(obj)]


def _compile_all(units: list[_Unit], keys: dict[Path, str], objects_dir: Path, jobs: int,
                 log: Callable[[str], None]) -> list[Path]:
    todo = [u for u in units if not (objects_dir / f"{keys[u.source]}.o").is_file()]
    if todo:
        log(f"compiling {len(todo)} of {len(units)} files ({jobs} jobs)")

    def one(unit: _Unit) -> None:
        obj = objects_dir / f"{keys[unit.source]}.o"
        tmp = obj.with_name(f".{obj.name}.{os.getpid()}.part")
        r = subprocess.run(_compile_cmd(unit, tmp), capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            tmp.unlink(missing_ok=True)
            first = next((ln for ln in r.stderr.splitlines() if "error" in ln), r.stderr.strip()[:300])
            raise TinyperfError(unit.source, f"does not compile: {first}", "check the firmware sources "
                                "(`tinyperf fetch firmware-sources`) and the toolchain version")
        tmp.replace(obj)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, todo))
    return [objects_dir / f"{keys[u.source]}.o" for u in units]


def _undefined(objects: list[Path]) -> set[str]:
    r = subprocess.run([NM, "-u", "--format=just-symbols", *map(str, objects)], capture_output=True,
                       text=True, timeout=120)
    defined = subprocess.run([NM, "--defined-only", "--format=just-symbols", *map(str, objects)],
                             capture_output=True, text=True, timeout=120).stdout.split()
    return set(r.stdout.split()) - set(defined)


_DEF = re.compile(rb"^[A-Za-z_][\w \t\*]*?\b(arm_\w+)\s*\([^;]*?\)\s*\{", re.M | re.S)


def _cmsis_nn_index(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for src in sorted((root / "Source").rglob("*.c")):
        if src.name.endswith(("_f16.c", "_f32.c")) or src.name == "arm_nntables_flt.c":
            continue
        index.setdefault(src.stem, src)
        for name in _DEF.findall(src.read_bytes()):
            index.setdefault(name.decode(), src)
    return index


def _cmsis_nn_objects(options: BuildOptions, sources: FirmwareSources, desc: dict[str, Any], machine: dict[str, Any],
                      objects: list[Path], objects_dir: Path, compiler: str, jobs: int,
                      log: Callable[[str], None]) -> list[Path]:
    """The CMSIS-NN functions the objects call, and the ones those call, compiled."""
    if options.kernels != "cmsis-nn":
        return []
    root = sources.roots["cmsis-nn"].resolve()
    index = _cmsis_nn_index(root)
    include_dirs = _includes(desc, sources, objects_dir)
    base = [*machine["cpu_flags"], *desc["flags"]["common"], *desc["flags"]["cmsis_nn"],
            *[f"-I{d}" for d in include_dirs[1:]], *desc["flags"]["c"], desc["flags"]["kernel_opt"]]
    chosen: dict[Path, Path] = {}
    pending = _undefined(objects)
    while True:
        new = sorted({index[s] for s in pending if s in index} - set(chosen))
        if not new:
            return list(chosen.values())
        units = []
        for src in new:
            flags = base + (["-DCMSIS_NN_USE_SINGLE_ROUNDING"] if options.single_rounding and
                            src == root / SINGLE_ROUNDING_FILE else [])
            units.append(_Unit(src, "c", flags, sorted((root / "Include").rglob("*.h"))))
        keys = {u.source: _object_key(u, compiler) for u in units}
        objs = _compile_all(units, keys, objects_dir, jobs, log)
        chosen.update(zip(new, objs))
        pending = _undefined(objects + list(chosen.values()))


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def _symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run([NM, str(elf)], capture_output=True, text=True, timeout=60, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("__"):
            syms[parts[2]] = int(parts[0], 16)
    return syms


def _link(options: BuildOptions, objects: list[Path], link_flags: list[str], ld_script: Path, image_dir: Path,
          machine: dict[str, Any], facts: ModelFacts, log: Callable[[str], None]) -> dict[str, Any]:
    image_dir.mkdir(parents=True, exist_ok=True)
    elf = image_dir / "firmware.elf"
    tmp = image_dir / f".firmware.{os.getpid()}.part"
    cmd = [CXX, *link_flags, "-T", str(ld_script), f"-Wl,-Map={image_dir / 'firmware.map'}",
           *map(str, objects), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        _refuse_too_large(options, r.stderr, cmd, ld_script, image_dir, machine, facts)
        first = next((ln for ln in r.stderr.splitlines() if ("error" in ln or "undefined" in ln) and "collect2" not in ln), r.stderr[:300])
        raise TinyperfError(ld_script, f"the firmware does not link: {first.strip()}",
                            "report it with the model and options used")
    tmp.replace(elf)
    s = _symbols(elf)
    static = s["__bss_end"] - s["__data_start"]
    return {
        "elf": str(elf),
        "flash_bytes": s["__flash_end"] - s["__flash_start"],
        "model_flash_bytes": facts.size,
        "static_ram_bytes": static,
        "heap_bytes": s["__heap_end"] - s["__heap_start"],
        "stack_bytes": s["__stack_top"] - s["__stack_bottom"],
        "arena_region_bytes": s["__arena_end"] - s["__arena_start"],
        "machine_flash_bytes": machine["flash_bytes"],
        "machine_ram_bytes": machine["ram_bytes"],
    }


def _refuse_too_large(options: BuildOptions, stderr: str, cmd: list[str], ld_script: Path, image_dir: Path,
                      machine: dict[str, Any], facts: ModelFacts) -> None:
    """A link that overflows flash or RAM: link once more without limits and name the sizes."""
    if not _OVERFLOW.search(stderr) and "RAM overflow" not in stderr:
        return
    roomy = image_dir / "unbounded.ld"
    roomy.write_text(re.sub(r"LENGTH = 4M", "LENGTH = 1024M", ld_script.read_text()))
    probe = image_dir / ".unbounded.elf"
    cmd = [c if c != str(ld_script) else str(roomy) for c in cmd]
    cmd[cmd.index("-o") + 1] = str(probe)
    subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    sizes = _symbols(probe) if probe.is_file() else {}
    probe.unlink(missing_ok=True)
    roomy.unlink(missing_ok=True)
    flash = sizes.get("__flash_end", 0) - sizes.get("__flash_start", 0)
    arena = options.arena_bytes if options.arena_bytes is not None else facts.arena_lower_bound
    ram = (sizes.get("__heap_end", 0) - sizes.get("__data_start", 0)) + arena + machine["stack_bytes"]
    raise TinyperfError(
        options.model,
        f"does not fit {options.machine}: flash {flash:,} B needed of {machine['flash_bytes']:,} B "
        f"(model {facts.size:,} B), RAM {ram:,} B needed of {machine['ram_bytes']:,} B "
        f"(arena at least {arena:,} B + static data and heap + {machine['stack_bytes']:,} B stack)",
        "use a smaller model, or a machine with more memory")


def _describe(options: BuildOptions, sources: FirmwareSources, desc: dict[str, Any], machine: dict[str, Any],
              facts: ModelFacts, compiler: str, key: str) -> dict[str, Any]:
    info = _info(options, sources, desc, machine, facts, compiler)
    return {"key": key, "machine": options.machine, "cpu": machine["cpu"], "icount_shift": machine["icount_shift"],
            "ops": list(facts.ops), "mode": options.mode, "fault_at_infer": options.fault_at_infer,
            "single_rounding": options.single_rounding, "model": str(options.model), **info}
