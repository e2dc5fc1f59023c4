"""Letters rendered per second: one process, one process per core, and plain ``typst.compile``.

Each render has a different subject and body, so Typst's memoisation cannot serve a cached result.
Prints progress lines, then one JSON line LAST with ``letters_per_s`` (all cores, Saraban's renderer),
``letters_per_s_one_process``, ``plain_typst_compile_per_s`` and ``cores``.

    .venv/bin/python bench/render.py --count 200
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from pathlib import Path

import typst

from saraban.regulation.content import LetterContent, parse_letter_json
from saraban.rendering.engine import PACKAGE_DIR, template_path
from saraban.rendering.fonts import FONT_DIR
from saraban.rendering.letters import letter_view, render_letter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "letters"


def _letters() -> list[LetterContent]:
    paths = sorted(EXAMPLES.glob("*.json"))
    return [parse_letter_json(json.loads(p.read_text(encoding="utf-8"))) for p in paths]


def _varied(base: list[LetterContent], i: int) -> LetterContent:
    letter = base[i % len(base)]
    body = [*letter.body, f"ลำดับการทดสอบที่ {i} เพื่อให้เนื้อหาของหนังสือแต่ละฉบับแตกต่างกัน"]
    return letter.model_copy(update={"subject": f"{letter.subject} ({i})", "body": body})


def _one_thread() -> None:
    # Typst lays out with a thread pool; with one process per core, one thread each avoids contention.
    os.environ["RAYON_NUM_THREADS"] = "1"


def _render_range(bounds: tuple[int, int]) -> int:
    base = _letters()
    render_letter(_varied(base, -1))  # warm the process's compiler
    start, stop = bounds
    total = 0
    for i in range(start, stop):
        total += len(render_letter(_varied(base, i)))
    return total


def one_process(count: int) -> float:
    """Letters per second in this process, reusing one compiler."""
    base = _letters()
    render_letter(_varied(base, -1))
    started = time.perf_counter()
    for i in range(count):
        render_letter(_varied(base, i))
    return count / (time.perf_counter() - started)


def all_cores(count: int, cores: int) -> float:
    """Letters per second with one worker process per core (each with its own compiler)."""
    chunk = -(-count // cores)
    bounds = [(k * chunk, min(count, (k + 1) * chunk)) for k in range(cores)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(cores, initializer=_one_thread) as pool:
        pool.map(_render_range, [(0, 1)] * cores)  # start and warm the workers
        started = time.perf_counter()
        pool.map(_render_range, bounds)
        elapsed = time.perf_counter() - started
    # each worker also renders one warm-up letter per call
    return (count + cores) / elapsed


def plain_compile(count: int) -> float:
    """Letters per second with a fresh ``typst.compile`` call per letter (fonts rescanned each time)."""
    base = _letters()
    started = time.perf_counter()
    for i in range(count):
        data = json.dumps(letter_view(_varied(base, i)), ensure_ascii=False)
        typst.compile(
            str(template_path("letter")), root=str(PACKAGE_DIR), font_paths=[str(FONT_DIR)],
            sys_inputs={"data": data}, pdf_standards=["a-3b"],
        )
    return count / (time.perf_counter() - started)


def main() -> None:
    """Run the three measurements and print the JSON line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="letters per measurement (default 200)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    single = one_process(args.count)
    print(f"one process: {single:.1f} letters/s", flush=True)
    multi = all_cores(args.count, args.cores)
    print(f"{args.cores} processes: {multi:.1f} letters/s", flush=True)
    plain = plain_compile(max(10, args.count // 4))
    print(f"plain typst.compile: {plain:.1f} letters/s", flush=True)
    print(json.dumps({
        "letters_per_s": round(multi, 1),
        "letters_per_s_one_process": round(single, 1),
        "plain_typst_compile_per_s": round(plain, 1),
        "cores": args.cores,
        "count": args.count,
        "pdf_standard": "a-3b",
    }))


if __name__ == "__main__":
    main()
