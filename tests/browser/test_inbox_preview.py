"""The incoming letter's PDF beside its details: at 1366×768 the whole width of the A4 page shows.

Chromium's viewer fits the page to the frame's width when it honours ``#view=FitH``; when it does
not (it then opens at 100 %, as in a new tab) a frame narrower than an A4 page at 100 % (794 CSS px
and the viewer's margins) shows only its left part. So the PDF's column must be that wide at 1366 px,
and the screenshot must show the page's white with the viewer's dark grey on both sides of it.
Screenshots: ``test-output/screenshots/50-…`` and ``51-…``.
"""

from __future__ import annotations

import base64
import time

import pytest
from playwright.sync_api import Page, expect

from saraban.directory.models import Organisation, Person
from saraban.inbox.services import register
from tests.web import test_workflow_pages as workflow
from tests.web.test_inbox_pages import deliver

from .conftest import SCREENSHOTS
from .helpers import sign_in

other_org = workflow.other_org
other_clerk = workflow.other_clerk

A4_AT_100 = 794  # 210 mm in CSS px (96 per inch)
VIEWER_MARGINS = 20  # the viewer's grey on each side of the page and the frame's border, with room to spare

_ROW = """async ([data, rows]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return rows.map(y => Array.from(context.getImageData(0, y, image.width, 1).data));
}"""


def page_edges(decoder: Page, png: bytes, rows: list[int]) -> list[tuple[int, int, int]]:
    """For each row of the screenshot: (first white pixel, last white pixel, width); (-1, -1, w) when none."""
    found = []
    for data in decoder.evaluate(_ROW, [base64.b64encode(png).decode(), rows]):
        pixels = [data[i:i + 3] for i in range(0, len(data), 4)]
        white = [i for i, (r, g, b) in enumerate(pixels) if min(r, g, b) >= 235]
        found.append((white[0], white[-1], len(pixels)) if white else (-1, -1, len(pixels)))
    return found


def painted_edges(page: Page, box: dict[str, float]) -> list[tuple[int, int, int]]:
    """The page's edges in the frame ``box`` on four rows below the viewer's toolbar, once it has painted."""
    decoder = page.context.new_page()
    rows = [int(box["height"] * f) for f in (0.3, 0.5, 0.7, 0.9)]
    deadline = time.monotonic() + 20
    try:
        while True:
            edges = page_edges(decoder, page.screenshot(clip=box), rows)  # type: ignore[arg-type]
            if all(first >= 0 for first, _last, _w in edges) or time.monotonic() > deadline:
                return edges
            page.wait_for_timeout(300)  # the viewer is still loading the PDF
    finally:
        decoder.close()


@pytest.mark.django_db(transaction=True)
def test_the_whole_width_of_the_page_shows_at_1366(
    live_server: object, page: Page, agency: Organisation, clerk: Person, signer: Person,
    other_org: Organisation, other_clerk: Person,
) -> None:
    base: str = live_server.url  # type: ignore[attr-defined]
    incoming = deliver(agency, clerk, signer, other_org)
    register(incoming, actor=other_clerk)  # the page shows the stamped copy
    sign_in(page, base, "nont.clerk")
    page.goto(f"{base}/inbox/{incoming.pk}/")
    frame = page.get_by_title("หนังสือฉบับ PDF")
    expect(frame).to_have_attribute("src", f"/inbox/{incoming.pk}/pdf?copy=stamped#navpanes=0&view=FitH")
    box = frame.bounding_box()
    side = page.locator(".split > .side").bounding_box()
    assert box and side
    # Wide enough for the page at 100 %, and the details keep their column (24rem) beside it.
    assert box["width"] >= A4_AT_100 + VIEWER_MARGINS, box
    assert side["width"] >= 24 * 15 and side["x"] >= box["x"] + box["width"], side
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # What Chromium's viewer paints: the page's white between the viewer's dark grey, on each row.
    edges = painted_edges(page, box)
    page.screenshot(path=str(SCREENSHOTS / "50-incoming-pdf-1366.png"))
    for first, last, width in edges:
        assert first >= 2, f"the page's left edge is not visible: {edges}"
        assert last <= width - 3, f"the page's right edge is cut off: {edges}"
        assert last - first >= 0.85 * width, f"the page is not fitted to the frame's width: {edges}"
    # A viewer that ignores FitH opens the page at 100 %: both its edges still show.
    page.evaluate("() => { const f = document.querySelector('iframe.pdf');"
                  " f.src = f.src.split('#')[0] + '&at=100#navpanes=0&zoom=100'; }")
    page.wait_for_timeout(500)
    edges = painted_edges(page, box)
    page.screenshot(path=str(SCREENSHOTS / "50-incoming-pdf-1366-at-100.png"))
    for first, last, width in edges:
        assert first >= 2 and last <= width - 3, f"at 100 % the page is cut off: {edges}"

    # Upright on a tablet the details go below, the PDF keeps the whole width of the screen.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENSHOTS / "51-incoming-pdf-768.png"))
    narrow = frame.bounding_box()
    assert narrow and narrow["width"] >= 700
