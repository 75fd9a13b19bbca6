"""Lone UTF-16 surrogates: valid in JSON (``"\\ud835"``), unencodable as UTF-8, so replaced on reading.

``json.loads`` turns an unpaired ``\\udXXX`` escape into a ``str`` that Python cannot encode; writing it
(scores.json, the PTB tokenizer's input, a report) raises ``UnicodeEncodeError``. Readers of predictions
and manifests call ``replace_surrogates`` on each parsed line and warn with file and line when it
changed something; the text is then scored with U+FFFD (the Unicode replacement character) in place of
each lone surrogate. A correctly paired surrogate escape is already decoded to one character by ``json``.
"""

from __future__ import annotations

import re

_LONE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_surrogates(value):
    """-> (value with every lone surrogate in its strings replaced by U+FFFD, number replaced).

    ``value``: a str, or lists/dicts of them (a parsed JSON line); other values are returned unchanged."""
    if isinstance(value, str):
        return _LONE.subn(REPLACEMENT, value)
    if isinstance(value, list):
        pairs = [replace_surrogates(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        out, total = {}, 0
        for key, v in value.items():
            new_key, n_key = replace_surrogates(key)
            out[new_key], n = replace_surrogates(v)
            total += n + n_key
        return out, total
    return value, 0
