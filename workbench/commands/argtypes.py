"""argparse types shared by the CLI verbs."""

from __future__ import annotations

import argparse


def count(text: str) -> int:
    """argparse type: a whole number of at least 1 (``--limit``, ``--n-images``); argparse turns the
    ``ArgumentTypeError`` into a one-line usage error naming the flag."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value
