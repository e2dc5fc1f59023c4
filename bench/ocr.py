"""Thai OCR of scans: character error rate and seconds a page, Saraban's reader against plain Tesseract.

    .venv/bin/python bench/ocr.py [--pages 6] [--seed 12] [--variants NAME,...] [--keep DIR]

Letters from ``examples/letters`` (each varied: subject, a paragraph with numbers and an amount) are
rendered by Saraban, rasterised at 300 dpi in grey (``pdftoppm -r 300 -gray``) and "scanned" with a
seeded RNG, so every run and every variant sees the same images: a skew of 0.5-2 degrees, grey paper
and ink, a blur, gaussian noise, salt and pepper with a few dust specks, and JPEG compression. The page
images of each letter are wrapped into one PDF as a scanner would (img2pdf, 300 dpi) and read by
``saraban.ocr.reading.read_scan`` (OCRmyPDF and Tesseract in a child process, writing the PDF/A too),
with its default ``ReadingOptions`` and with the languages (tha, tha+eng), preprocessing (none,
deskew, deskew+clean) and page rotation changed; and by plain ``tesseract page - -l tha`` on the same
images, one page at a time, as the alternative a user would otherwise pick. The clean 300 dpi images
are read too.

The reference is the rendered PDF's own text layer (``pdftotext -layout``). Both texts are folded the
same way, as search folds them: NFC, SARA AM as one character, every space (and zero-width character)
removed. CER = Levenshtein distance / reference length, summed over all pages. The digit error rate
is the same on the digits only (Thai and Arabic folded, as search folds them): Thai digits are the
known weak spot. Time is wall time per page, one OCR process at a time (``jobs=1``, one thread), and
the CPU time of the OCR processes (steadier when other work shares the machine).

Prints progress lines and a table, then one JSON line LAST: ``cer`` and ``seconds_per_page`` (Saraban's
default options on the scanned pages), ``cpu_seconds_per_page``, ``cer_clean``, ``digit_error_rate``,
``tesseract_cer``, ``tesseract_seconds_per_page``, ``pages``, and ``variants`` (cer, digit_error_rate,
seconds_per_page, cpu_seconds_per_page of each).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
EXAMPLES = ROOT / "examples" / "letters"

_SPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_DIGIT = re.compile(r"[0-9]")


# --- measuring --------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Text as compared: NFC, SARA AM as one character (NIKHAHIT + SARA AA read apart), no spaces."""
    text = unicodedata.normalize("NFC", text).replace("\u0e4d\u0e32", "\u0e33")
    return _SPACE.sub("", text)


def digits_of(folded: str) -> str:
    """The digits of folded text, Thai digits as Arabic (search folds them the same way)."""
    return "".join(_DIGIT.findall(folded.translate(_DIGITS)))


def levenshtein(a: str, b: str) -> int:
    """Edit distance of ``a`` and ``b`` (Myers' and Hyyro's bit-parallel algorithm: one row a character)."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask, high = (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


@dataclasses.dataclass
class Tally:
    """Errors and time summed over the pages one variant read."""

    errors: int = 0
    reference: int = 0
    digit_errors: int = 0
    digit_reference: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    pages: int = 0
    failures: int = 0

    def add(self, reference: str, hypothesis: str, seconds: float, cpu: float, pages: int) -> tuple[float, float]:
        """Count one document; its CER and digit error rate."""
        ref, hyp = fold(reference), fold(hypothesis)
        errors, digit_errors = levenshtein(ref, hyp), levenshtein(digits_of(ref), digits_of(hyp))
        self.errors += errors
        self.reference += len(ref)
        self.digit_errors += digit_errors
        self.digit_reference += len(digits_of(ref))
        self.seconds += seconds
        self.cpu_seconds += cpu
        self.pages += pages
        return errors / max(1, len(ref)), digit_errors / max(1, len(digits_of(ref)))

    def figures(self) -> dict[str, float | int]:
        """CER, digit error rate, and wall and CPU seconds a page."""
        return {
            "cer": round(self.errors / max(1, self.reference), 4),
            "digit_error_rate": round(self.digit_errors / max(1, self.digit_reference), 4),
            "seconds_per_page": round(self.seconds / max(1, self.pages), 2),
            "cpu_seconds_per_page": round(self.cpu_seconds / max(1, self.pages), 2),
            "pages": self.pages,
            "failures": self.failures,
        }


# --- the corpus -------------------------------------------------------------------------------------

@dataclasses.dataclass
class Letter:
    """One rendered letter: its reference text, and its page images clean and scanned."""

    name: str
    reference: str
    clean: list[Path]
    scanned: list[Path]


def _render(count_pages: int, work: Path) -> list[tuple[str, bytes]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    os.environ.setdefault("SARABAN_HOME", str(work / "home"))
    import django

    django.setup()
    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    base = [(p.stem, parse_letter_json(json.loads(p.read_text(encoding="utf-8"))))
            for p in sorted(EXAMPLES.glob("*.json"))]
    out: list[tuple[str, bytes]] = []
    pages, i = 0, 0
    while pages < count_pages:
        stem, letter = base[i % len(base)]
        amount = f"{(i * 7919) % 900000 + 10000:,}.{(i * 37) % 100:02d}"
        extra = (f"ลำดับการทดสอบที่ {i + 1} ขอให้รายงานผลภายในวันที่ {(i % 28) + 1} ของเดือน "
                 f"โดยใช้งบประมาณ {amount} บาท ติดต่อหมายเลข 0 2283 {4100 + i}")
        varied = letter.model_copy(update={"subject": f"{letter.subject} ครั้งที่ {i + 1}",
                                           "body": [*letter.body, extra]})
        pdf = render_letter(varied)
        out.append((f"{i + 1:02d}-{stem}", pdf))
        pages += _page_count(pdf)
        i += 1
    return out


def _page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _noise_tile(rng: random.Random, sigma: float, size: int = 509) -> Image.Image:
    values = bytes(min(255, max(0, int(128 + rng.gauss(0.0, sigma)))) for _ in range(size * size))
    return Image.frombytes("L", (size, size), values)


def scan(page: Path, out: Path, rng: random.Random) -> dict[str, float]:
    """Make a "scanned" JPEG of the clean page image: skew, grey paper, blur, noise, specks, JPEG."""
    with Image.open(page) as opened:
        image = opened.convert("L")
    paper, ink = rng.randint(222, 242), rng.randint(15, 60)
    image = image.point(lambda v: ink + (paper - ink) * v // 255)
    angle = rng.uniform(0.5, 2.0) * rng.choice((-1, 1))
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    blur = rng.uniform(0.5, 1.1)
    image = image.filter(ImageFilter.GaussianBlur(blur))
    sigma = rng.uniform(6.0, 14.0)
    tile = _noise_tile(rng, sigma)
    noise = Image.new("L", image.size)
    ox, oy = rng.randrange(tile.width), rng.randrange(tile.height)
    for x in range(-ox, image.width, tile.width):
        for y in range(-oy, image.height, tile.height):
            noise.paste(tile, (x, y))
    image = ImageChops.add(image, noise, scale=1.0, offset=-128)
    draw = ImageDraw.Draw(image)
    salt = rng.uniform(0.0005, 0.002)
    for _ in range(int(salt * image.width * image.height)):
        draw.point((rng.randrange(image.width), rng.randrange(image.height)), fill=rng.choice((0, 255)))
    for _ in range(rng.randint(40, 160)):  # dust: specks of 1-3 px
        x, y, r = rng.randrange(image.width), rng.randrange(image.height), rng.uniform(0.8, 3.0)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(0, 80))
    quality = rng.randint(55, 80)
    image.save(out, "JPEG", quality=quality, dpi=(300, 300))
    return {"angle": round(angle, 2), "blur": round(blur, 2), "sigma": round(sigma, 1), "salt": round(salt, 4),
            "quality": quality}


def build_corpus(count_pages: int, seed: int, work: Path) -> list[Letter]:
    """Render, rasterise and scan at least ``count_pages`` pages; the letters with their references."""
    letters: list[Letter] = []
    for name, pdf in _render(count_pages, work):
        source = work / f"{name}.pdf"
        source.write_bytes(pdf)
        reference = subprocess.run(["pdftotext", "-q", "-layout", "-enc", "UTF-8", str(source), "-"],
                                   check=True, capture_output=True).stdout.decode("utf-8")
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(source), str(work / name)], check=True)
        clean = sorted(work.glob(f"{name}-*.png"))
        scanned = []
        for number, page in enumerate(clean, 1):
            rng = random.Random(f"{seed}:{name}:{number}")
            target = page.with_suffix(".jpg")
            how = scan(page, target, rng)
            scanned.append(target)
            print(f"page {name} p{number}: {how}", flush=True)
        letters.append(Letter(name, reference, clean, scanned))
    return letters


# --- the readers -------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Variant:
    """One way of reading the corpus."""

    engine: str  # "saraban" (read_scan) or "tesseract" (plain tesseract on each page image)
    languages: str
    preprocessing: str  # none, deskew, deskew+clean
    images: str  # scanned or clean
    rotate: bool = True  # read_scan's rotate_pages (Tesseract's orientation detection on each page)

    @property
    def name(self) -> str:
        """The variant's key in the JSON line."""
        rotate = "" if self.rotate or self.engine != "saraban" else " no-rotate"
        return f"{self.engine} {self.languages} {self.preprocessing} {self.images}{rotate}"


def _preprocessing(deskew: bool, clean: bool) -> str:
    return "deskew+clean" if deskew and clean else "deskew" if deskew else "clean" if clean else "none"


def variants() -> list[Variant]:
    """Saraban's defaults first, then the other languages and preprocessing, then plain Tesseract."""
    from saraban.ocr.reading import ReadingOptions

    default = ReadingOptions()
    first = Variant("saraban", default.languages, _preprocessing(default.deskew, default.clean), "scanned",
                    default.rotate_pages)
    out = [first]
    for languages in ("tha+eng", "tha"):
        for pre in ("none", "deskew", "deskew+clean"):
            v = Variant("saraban", languages, pre, "scanned")
            if v not in out:
                out.append(v)
    out.append(dataclasses.replace(first, rotate=not first.rotate))
    out.append(dataclasses.replace(first, images="clean"))
    out += [Variant("tesseract", "tha", "none", "scanned"), Variant("tesseract", "tha+eng", "none", "scanned"),
            Variant("tesseract", "tha", "none", "clean")]
    return out


def _wrap(images: list[Path]) -> bytes:
    import img2pdf

    layout = img2pdf.get_fixed_dpi_layout_fun((300, 300))
    return bytes(img2pdf.convert([str(p) for p in images], layout_fun=layout))


def _children_cpu() -> float:
    # the OCR processes' CPU time (waited-for children and theirs): steadier than wall time on a shared machine
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_saraban(variant: Variant, letter: Letter) -> str:
    """The letter's text as Saraban reads the scan (one PDF of its pages)."""
    from saraban.ocr.reading import ReadingOptions, read_scan

    options = dataclasses.replace(ReadingOptions(), languages=variant.languages,
                                  deskew="deskew" in variant.preprocessing, clean="clean" in variant.preprocessing,
                                  rotate_pages=variant.rotate)
    data = _wrap(letter.scanned if variant.images == "scanned" else letter.clean)
    return read_scan(data, "application/pdf", options=options).text


def read_tesseract(variant: Variant, letter: Letter) -> str:
    """The letter's text from plain ``tesseract page - -l LANG``, page by page."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one thread, as Saraban's reader runs it
    texts = []
    for page in letter.scanned if variant.images == "scanned" else letter.clean:
        done = subprocess.run(["tesseract", str(page), "-", "-l", variant.languages], env=env,
                              capture_output=True, check=True)
        texts.append(done.stdout.decode("utf-8", errors="replace"))
    return "\n".join(texts)


# --- the run -----------------------------------------------------------------------------------------

def run(letters: list[Letter], chosen: list[Variant], keep: Path | None) -> dict[str, Tally]:
    """Read every letter with every variant, one OCR process at a time."""
    from saraban.ocr.reading import ScanUnreadable

    tallies: dict[str, Tally] = {}
    for variant in chosen:
        tally = tallies[variant.name] = Tally()
        for letter in letters:
            pages = len(letter.clean)
            reader = read_saraban if variant.engine == "saraban" else read_tesseract
            started, cpu = time.perf_counter(), _children_cpu()
            try:
                text = reader(variant, letter)
            except (ScanUnreadable, subprocess.CalledProcessError) as exc:
                tally.failures += 1
                text = ""
                print(f"  {variant.name} {letter.name}: FAILED {exc}", flush=True)
            seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
            cer, digit = tally.add(letter.reference, text, seconds, cpu, pages)
            if keep is not None:
                (keep / f"{letter.name}.{variant.name.replace(' ', '_')}.txt").write_text(text, encoding="utf-8")
            print(f"  {variant.name} {letter.name}: cer {cer:.3f} digits {digit:.3f} "
                  f"{seconds / pages:.1f} s/page ({cpu / pages:.1f} s CPU)", flush=True)
        f = tally.figures()
        print(f"{variant.name}: cer {f['cer']:.4f} digits {f['digit_error_rate']:.4f} "
              f"{f['seconds_per_page']:.2f} s/page ({f['cpu_seconds_per_page']:.2f} s CPU)", flush=True)
    return tallies


def main() -> None:
    """Build the corpus, read it with each variant, print the table and the JSON line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages to read with each variant (default 6)")
    parser.add_argument("--seed", type=int, default=12, help="the scanner noise's seed (default 12)")
    parser.add_argument("--variants", default="", help="comma-separated variant names (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the images, references and OCR texts in this folder")
    args = parser.parse_args()
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    with tempfile.TemporaryDirectory(prefix="saraban-bench-ocr-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        letters = build_corpus(args.pages, args.seed, work)
        for letter in letters:
            (work / f"{letter.name}.reference.txt").write_text(letter.reference, encoding="utf-8")
        pages = sum(len(x.clean) for x in letters)
        print(f"corpus: {len(letters)} letters, {pages} pages in {time.perf_counter() - started:.1f} s", flush=True)
        every = variants()
        wanted = {w.strip() for w in args.variants.split(",") if w.strip()}
        chosen = [v for v in every if not wanted or v.name in wanted]
        if wanted - {v.name for v in every}:
            parser.error(f"unknown variants {sorted(wanted - {v.name for v in every})}; "
                         f"known: {[v.name for v in every]}")
        tallies = run(letters, chosen, args.keep)
    figures = {name: t.figures() for name, t in tallies.items()}
    print(f"{'variant':40} {'CER':>7} {'digits':>7} {'s/page':>7} {'CPU s':>7}")
    for name, f in figures.items():
        print(f"{name:40} {f['cer']:7.4f} {f['digit_error_rate']:7.4f} {f['seconds_per_page']:7.2f} "
              f"{f['cpu_seconds_per_page']:7.2f}")
    default, tess = every[0], Variant("tesseract", "tha", "none", "scanned")
    clean = dataclasses.replace(default, images="clean")

    def pick(v: Variant, key: str) -> float | int | None:
        return figures[v.name][key] if v.name in figures else None

    print(json.dumps({
        "cer": pick(default, "cer"),
        "seconds_per_page": pick(default, "seconds_per_page"),
        "cpu_seconds_per_page": pick(default, "cpu_seconds_per_page"),
        "digit_error_rate": pick(default, "digit_error_rate"),
        "cer_clean": pick(clean, "cer"),
        "tesseract_cer": pick(tess, "cer"),
        "tesseract_seconds_per_page": pick(tess, "seconds_per_page"),
        "tesseract_cpu_seconds_per_page": pick(tess, "cpu_seconds_per_page"),
        "tesseract_digit_error_rate": pick(tess, "digit_error_rate"),
        "pages": pages,
        "letters": len(letters),
        "seed": args.seed,
        "default": default.name,
        "variants": figures,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
