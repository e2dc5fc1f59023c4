"""A map of Thailand's 77 provinces as SVG, drawn on the server from the simplified GeoJSON (no JS)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

GEOJSON = Path(__file__).parent / "static" / "rollout" / "th-provinces.geojson"
WIDTH = 360
# lighter to darker: no ready agency, then 1–2, 3–5, 6–10, 11–20, more
SHADES = ("#eeeeee", "#d6e9f8", "#a9cdee", "#6fa8dc", "#3d85c6", "#1c4f87")
BOUNDS = (1, 3, 6, 11, 21)


@cache
def _features() -> list[dict[str, Any]]:
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    return list(data["features"])


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


@cache
def _paths() -> tuple[tuple[str, str, str, str], ...]:
    """(code, name_th, name_en, SVG path data) per province, projected once."""
    features = _features()
    points = [pt for f in features for ring in _rings(f["geometry"]) for pt in ring]
    min_x = min(p[0] for p in points)
    max_x = max(p[0] for p in points)
    min_y = min(p[1] for p in points)
    max_y = max(p[1] for p in points)
    k = math.cos(math.radians((min_y + max_y) / 2))
    scale = WIDTH / ((max_x - min_x) * k)
    out = []
    for f in features:
        parts = []
        for ring in _rings(f["geometry"]):
            coords = " ".join(f"{(x - min_x) * k * scale:.1f},{(max_y - y) * scale:.1f}" for x, y in ring)
            parts.append(f"M{coords}Z")
        props = f["properties"]
        out.append((str(props["code"]), props["name_th"], props["name_en"], "".join(parts)))
    return tuple(out)


def height() -> int:
    """The height of the map at ``WIDTH``."""
    features = _features()
    points = [pt for f in features for ring in _rings(f["geometry"]) for pt in ring]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    return math.ceil((max(ys) - min(ys)) * WIDTH / ((max(xs) - min(xs)) * k))


def shade(count: int) -> str:
    """The fill of a province with ``count`` ready agencies."""
    return SHADES[sum(count >= b for b in BOUNDS)]


def province_map(counts: Mapping[str, tuple[int, int]], *, lang: str = "th") -> str:
    """The SVG: provinces filled by ready agencies; a dot where some are onboarded to Saraban already."""
    h = height()
    rows = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" '
            f'role="img" aria-label="{"Ready agencies by province" if lang == "en" else "หน่วยงานที่พร้อมรายจังหวัด"}">']
    for code, name_th, name_en, d in _paths():
        ready, onboarded = counts.get(code, (0, 0))
        name = name_en if lang == "en" else name_th
        label = (f"{name}: {ready} ready, {onboarded} on Saraban" if lang == "en"
                 else f"{name}: พร้อม {ready} แห่ง ใช้ Saraban แล้ว {onboarded} แห่ง")
        stroke = ' stroke="#c0392b" stroke-width="1.6"' if onboarded else ' stroke="#fff" stroke-width="0.5"'
        rows.append(f'<path d="{d}" fill="{shade(ready)}"{stroke} data-code="{code}">'
                    f"<title>{escape(label)}</title></path>")
    rows.append("</svg>")
    return "\n".join(rows)
