"""Decode an image file: the one function ``generate`` and ``validate`` both use, so what validates decodes.

``open_image(path)`` (over ``decode_image``) opens and fully decodes the file as RGB (PIL's ``convert``
reads every pixel, so a truncated JPEG fails here, not later in a batch). ``Image.verify()`` alone would
pass such a file.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from workbench.errors import WorkbenchError


# what PIL raises for a file it cannot decode (unknown format, truncated or corrupt data, bomb)
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def decode_image(path: str | Path) -> Image.Image:
    """Fully decode ``path`` as an RGB image; raises PIL's errors (``DECODE_ERRORS``) as they come."""
    with Image.open(path) as img:
        return img.convert("RGB")


def open_image(path: str | Path) -> Image.Image:
    """``decode_image`` with a one-line error naming the file when it cannot be decoded.

    Raises ``WorkbenchError`` (file not found, or not decodable: unknown format, truncated data)."""
    try:
        return decode_image(path)
    except FileNotFoundError:
        raise WorkbenchError(f"{path}: image file not found") from None
    except DECODE_ERRORS as exc:
        raise WorkbenchError(f"{path}: cannot decode image ({type(exc).__name__}: {exc}); "
                             "replace or remove the file") from None
