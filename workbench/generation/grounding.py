"""MiniGPT-v2's grounding outputs: ``<p>object</p> {<x1><y1><x2><y2>}`` into boxes.

MiniGPT-v2 writes a box as four integers on a 0-100 grid over the (448 px, squashed) image, each in angle
brackets, the four inside braces; several boxes for one phrase are separated by ``<delim>``
(``minigpt4/conversation/conversation.py`` and ``eval_scripts/eval_ref.py``, which reads them with the same
pattern and rescales by ``/100 * image size``). The phrase before a box, if any, is ``<p>…</p>``.
"""

from __future__ import annotations

import re

BOX = re.compile(r"\{<(\d{1,3})><(\d{1,3})><(\d{1,3})><(\d{1,3})>\}")
PHRASE = re.compile(r"<p>(.*?)</p>\s*$", re.S)
GRID = 100


def parse_boxes(text: str) -> list[dict]:
    """Boxes in ``text``, in order: ``[{"phrase": str | None, "box": [x1, y1, x2, y2]}]``.

    ``box`` is on MiniGPT-v2's 0-100 grid, as fractions of the image width/height times 100 (divide by 100 and
    multiply by the image size for pixels). A box whose corners are not ordered (x1 > x2 or y1 > y2) or that
    leaves the grid is skipped: it is a malformed output, which ``eval_ref.py`` also drops. Boxes joined by
    ``<delim>`` share the phrase before the first of them.
    """
    boxes: list[dict] = []
    phrase: str | None = None
    last_end = 0
    for match in BOX.finditer(text):
        between = text[last_end:match.start()]
        if "<delim>" not in between or last_end == 0:
            found = PHRASE.search(between)
            phrase = found.group(1).strip() if found else None
        last_end = match.end()
        x1, y1, x2, y2 = (int(v) for v in match.groups())
        if not (0 <= x1 <= x2 <= GRID and 0 <= y1 <= y2 <= GRID):
            continue
        boxes.append({"phrase": phrase, "box": [x1, y1, x2, y2]})
    return boxes
