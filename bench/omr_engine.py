"""OMR engine alone (issue 8): sheets a second on one core, and accuracy on a clean and a hard synthetic set.

    .venv/bin/python bench/omr_engine.py                    # 500 clean + 500 hard sheets at 150 DPI
    .venv/bin/python bench/omr_engine.py --count 100        # a quick run
    .venv/bin/python bench/omr_engine.py --keep --folder var/bench/omr-sets   # keep the images to look at

No database, no Redis. OpenCV is held to one thread (``cv2.setNumThreads(1)``) and numpy's BLAS too, so the
figures are per core.

1. **Setup (timed, not a target):** ``omr.synth.write_set`` writes ``--count`` sheets of the "clean" preset
   (full pen or pencil fills, 1 % multiple marks, 5 % blank questions; PNG) and ``--count`` of the "hard"
   preset (rotation ±10°, upside-down, phone-photo perspective, lighting gradients and shadows, blur, noise,
   speckle, JPEG quality 30–90, a few cut corners and crumpled sheets; partial fills, light pencil, ticks,
   crosses, erasures, stray marks; every tenth sheet personalised) at ``--dpi``, each with its JSON truth,
   into a temporary folder (or ``--folder``), for a layout of ``--questions`` × ``--options`` with an 8-digit
   roll and series A–D.
2. **Baseline,** on the same files in the same run: ``cv2.imread`` (grey) and an Otsu ``cv2.threshold`` a
   sheet — the least any reader of these images pays.
3. **Engine:** per sheet, the file's bytes read, ``engine.decode`` and ``engine.read_sheet`` (the layout
   given), timed one at a time (wall and CPU); then each read is scored against its truth with
   ``synth.compare``: a bubble is right when its class (definite / marginal / blank) is one its mark allows (a
   full fill must be definite, a tick marginal, an erasure blank or marginal…); a sheet is right when its
   status is one its truth expects (a cut sheet refused, a crumpled one refused or sent to review) and every
   bubble is right. A **silent error** is a bubble read wrong in a question (or roll, or series) that was not
   sent to review, on a sheet that was not refused.

Prints ``name: value`` lines, ending with the issue's targets: ≥ 50 sheets/s a core, 100 % on the clean set,
≥ 99.9 % of bubbles on the hard set with zero silent errors. The end-to-end figure through Celery workers is
not measured here yet.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from omr import engine, synth  # noqa: E402
from omr.layout import build_layout  # noqa: E402

TARGET_RATE = 50.0
TARGET_HARD_BUBBLES = 0.999


def say(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="sheets in each set")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--options", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", help="where to write the sets (default: a temporary folder, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the images (with --folder)")
    args = parser.parse_args()
    if args.count < 1 or not 100 <= args.dpi <= 400:
        sys.exit("bench: --count must be positive and --dpi 100–400.")
    cv2.setNumThreads(1)
    layout = build_layout(
        code=f"bench-{args.questions}x{args.options}",
        questions=args.questions,
        options=args.options,
        roll_digits=8,
        series=("A", "B", "C", "D"),
        title="Benchmark",
    )
    say("machine", f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    say("opencv", f"{cv2.__version__}, {cv2.getNumThreads()} thread")
    say("layout", f"{layout.code}: {len(layout.bubbles())} bubbles a sheet, {args.dpi} DPI")
    base = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="omr_engine-"))
    try:
        figures = {}
        for preset in ("clean", "hard"):
            folder = base / preset
            if folder.exists():
                shutil.rmtree(folder)
            t = time.perf_counter()
            paths = synth.write_set(folder, args.count, layout, preset=preset, dpi=args.dpi, seed=args.seed)
            seconds = time.perf_counter() - t
            size = sum(p.stat().st_size for p in paths)
            say(
                f"{preset}_setup",
                f"{len(paths)} sheets written in {seconds:.1f} s ({size / len(paths) / 1024:.0f} KiB a file)",
            )
            figures[preset] = measure(preset, paths, layout)
        report(figures)
    finally:
        if args.folder and args.keep:
            say("folder", f"{base} kept")
        else:
            shutil.rmtree(base, ignore_errors=True)


def measure(preset: str, paths: list[Path], layout) -> dict[str, float]:
    # baseline: imread + Otsu threshold
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
    # the engine
    reads = []
    times = []
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        t = time.perf_counter()
        pages = engine.decode(path.read_bytes())
        read = engine.read_sheet(pages[0], layout)
        times.append((time.perf_counter() - t) * 1000)
        reads.append(read)
    eng_wall, eng_cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(paths)
    rate_cpu, rate_wall = n / eng_cpu, n / eng_wall
    say(
        f"{preset}_baseline",
        f"{n / base_cpu:.1f} sheets/s a core (imread + Otsu threshold; {n / base_wall:.1f}/s wall)",
    )
    say(
        f"{preset}_engine",
        f"{rate_cpu:.1f} sheets/s a core (CPU time; {rate_wall:.1f}/s wall), decode included; "
        f"{eng_cpu / base_cpu:.1f}× the baseline's CPU time",
    )
    say(
        f"{preset}_latency_ms",
        f"p50 {statistics.median(times):.1f}, p90 {pct(times, 0.9):.1f}, p99 {pct(times, 0.99):.1f}, "
        f"max {max(times):.1f}",
    )
    steps = Counter()
    for read in reads:
        for key in ("locate", "qr", "bubbles"):
            steps[key] += read.timings.get(key, 0.0)
    say(f"{preset}_steps_ms", ", ".join(f"{k} {v / n:.2f}" for k, v in steps.items()) + " (mean a sheet, cumulative)")
    # accuracy
    bubbles = right = silent = sheets_right = 0
    statuses: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    expected_refused = refused_as_expected = 0
    wrong_kinds: Counter[str] = Counter()
    for path, read in zip(paths, reads, strict=True):
        truth = synth.truth_from_json(json.loads(path.with_suffix(".json").read_text()))
        result = synth.compare(truth, read)
        statuses[read.status] += 1
        if read.status == "refused":
            refusals[read.refusal_code] += 1
        if truth.expect_status == ("refused",):
            expected_refused += 1
            refused_as_expected += read.status == "refused"
        bubbles += result["bubbles"]
        right += result["bubbles_right"]
        silent += len(result["silent"])
        sheets_right += bool(result["sheet_right"])
        for _key, got, kind, _fill in result["wrong"]:
            wrong_kinds[f"{kind}→{got}"] += 1
    bubble_acc = right / bubbles if bubbles else 1.0
    say(f"{preset}_bubbles", f"{right:,} of {bubbles:,} right ({bubble_acc:.4%}) on the sheets not refused")
    if wrong_kinds:
        say(f"{preset}_wrong_bubbles", ", ".join(f"{k} {v}" for k, v in wrong_kinds.most_common()))
    say(
        f"{preset}_sheets",
        f"{sheets_right} of {n} right ({sheets_right / n:.2%}): status expected and every bubble right",
    )
    say(f"{preset}_outcomes", ", ".join(f"{k} {statuses[k]}" for k in ("read", "review", "refused")))
    if refusals:
        say(f"{preset}_refusals", ", ".join(f"{k} {v}" for k, v in refusals.most_common()))
    say(f"{preset}_expected_refusals", f"{refused_as_expected} of {expected_refused} cut sheets refused")
    say(f"{preset}_silent_errors", silent)
    return {"rate": rate_cpu, "bubbles": bubble_acc, "silent": silent, "sheets": sheets_right / n}


def report(figures: dict[str, dict[str, float]]) -> None:
    rate = min(f["rate"] for f in figures.values())
    clean, hard = figures["clean"], figures["hard"]
    say(
        "target_speed",
        f"{'met' if rate >= TARGET_RATE else 'MISSED'}: {rate:.1f} sheets/s a core (slower set) ≥ {TARGET_RATE:.0f}",
    )
    ok = clean["bubbles"] == 1.0 and clean["sheets"] == 1.0 and clean["silent"] == 0
    say(
        "target_clean",
        f"{'met' if ok else 'MISSED'}: {clean['bubbles']:.4%} of bubbles, {clean['sheets']:.2%} of sheets",
    )
    ok = hard["bubbles"] >= TARGET_HARD_BUBBLES and hard["silent"] == 0
    say(
        "target_hard",
        f"{'met' if ok else 'MISSED'}: {hard['bubbles']:.4%} of bubbles (≥ 99.9 %), "
        f"{hard['silent']:.0f} silent errors (0)",
    )


if __name__ == "__main__":
    main()
