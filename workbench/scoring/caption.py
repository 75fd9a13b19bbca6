"""Caption scorer: COCO metrics (BLEU-1..4, METEOR, ROUGE-L, CIDEr) via pycocoevalcap.

Card
- What: n-gram overlap of a generated caption with the reference captions, exactly as the COCO caption
  evaluation computes it (``pycocoevalcap``, the same code COCO leaderboards use).
- Tokenization: pycocoevalcap's ``PTBTokenizer`` (Stanford CoreNLP, Java), lower-cased, punctuation dropped.
  Predictions and references go through one Java call. Line breaks inside a text become spaces first
  (they would shift PTBTokenizer's line alignment).
- BLEU-n: corpus BLEU with the "closest" reference length, as ``pycocoevalcap.bleu.Bleu``. Each item keeps
  ``bleu_stats = [testlen, reflen, guess_1..4, correct_1..4]``; the corpus BLEU is recomputed from their sums,
  so any subset (bootstrap resample) gets its own exact corpus BLEU. Per-item ``bleu_n`` are pycocoevalcap's
  smoothed sentence scores, for display only.
- METEOR 1.5 (Java, ``-l en -norm``): each item keeps Meteor's 23 sufficient statistics (``meteor_stats``);
  the corpus score is Meteor's own formula (alpha 0.85, beta 0.2, gamma 0.6, delta 0.75, module weights
  1.0/0.6/0.8/0.6) over summed statistics, which equals Meteor's ``EVAL`` line. Costs a ~1-7 s JVM start.
  Without Java, METEOR is reported as unavailable (``None`` + a warning), never as 0.
- ROUGE-L (beta 1.2, best reference) and CIDEr-D (sigma 6, IDF over the *whole* scored set's references,
  x10) are per item; the corpus value is their mean, as in pycocoevalcap.
- CIDEr undefined: an n-gram's IDF is log(N) - log(df) over the N scored items' reference sets, so when
  every n-gram of an item's references occurs in every item's references (one scored item; all items
  sharing one reference set) all its weights are 0 and any caption gets 0. Such an item's ``cider`` is
  ``None`` with a warning; the corpus CIDEr is ``None`` when no item has it defined, otherwise the mean
  with those items at pycocoevalcap's 0 (the warning says how many).
- No SPICE: it downloads Stanford CoreNLP models at run time, which offline machines cannot do.
- Without Java at all the PTB tokenizer is replaced by a Python approximation (warning in the result);
  numbers can then differ slightly from the COCO toolkit's.
Known limits: n-gram metrics reward wording overlap, not correctness; long detailed descriptions are
penalized against short COCO-style references (BLEU brevity is not the issue, precision is); CIDEr of a
subset reuses the full set's IDF.
"""

from __future__ import annotations

import math
import re
import shutil

import numpy as np

PUNCTUATIONS = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":",
                "-", "--", "...", ";"}
METEOR_WEIGHTS = (1.0, 0.6, 0.8, 0.6)
METEOR_ALPHA, METEOR_BETA, METEOR_GAMMA, METEOR_DELTA = 0.85, 0.2, 0.6, 0.75
N_BLEU = 4
_LINEBREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_PY_TOKEN = re.compile(r"n't|'[a-z]+|[a-z0-9]+(?:[.,][0-9]+)*|[^\sa-z0-9]")


def java_available() -> bool:
    return shutil.which("java") is not None


def _python_tokenize(text: str) -> str:
    return " ".join(t for t in _PY_TOKEN.findall(text.lower()) if t not in PUNCTUATIONS)


def _ptb_tokenize(sentences: list[str]) -> list[str]:
    """pycocoevalcap's PTBTokenizer call (same jar, flags and punctuation filter), with two fixes: the
    input file lives in the system temp folder (site-packages may be read-only) and the output must have
    exactly one line per input sentence (pycocoevalcap would silently misalign otherwise)."""
    import os
    import subprocess
    import tempfile

    from pycocoevalcap.tokenizer import ptbtokenizer

    jar_dir = os.path.dirname(os.path.abspath(ptbtokenizer.__file__))
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(sentences).encode())
    try:
        cmd = ["java", "-cp", ptbtokenizer.STANFORD_CORENLP_3_4_1_JAR, "edu.stanford.nlp.process.PTBTokenizer",
               "-preserveLines", "-lowerCase", handle.name]
        proc = subprocess.run(cmd, cwd=jar_dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    finally:
        os.unlink(handle.name)
    lines = proc.stdout.decode().split("\n")
    if proc.returncode != 0 or len(lines) < len(sentences) or any(x.strip() for x in lines[len(sentences):]):
        raise RuntimeError(f"PTBTokenizer returned {len(lines)} lines for {len(sentences)} sentences "
                           f"(exit code {proc.returncode})")
    return [" ".join(w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS)
            for line in lines[:len(sentences)]]


def tokenize(predictions: list[str], references: list[list[str]], use_java: bool):
    """-> (tokenized predictions, tokenized references) with COCO's PTB tokenization."""
    if not use_java:
        return ([_python_tokenize(p) for p in predictions],
                [[_python_tokenize(r) for r in refs] for refs in references])
    sentences = [_LINEBREAKS.sub(" ", p) for p in predictions]
    for refs in references:
        sentences.extend(_LINEBREAKS.sub(" ", r) for r in refs)
    tokens = _ptb_tokenize(sentences)
    hyps, refs_out, at = tokens[:len(predictions)], [], len(predictions)
    for refs in references:
        refs_out.append(tokens[at:at + len(refs)])
        at += len(refs)
    return hyps, refs_out


def bleu_from_stats(testlen, reflen, guess, correct):
    """pycocoevalcap's corpus BLEU-1..4 from summed statistics (scalars or numpy arrays alike)."""
    small, tiny = 1e-9, 1e-15
    out = []
    prod = 1.0
    ratio = (testlen + tiny) / (reflen + small)
    brevity = _exp_min0(1 - 1 / ratio)
    for k in range(N_BLEU):
        prod = prod * (correct[k] + tiny) / (guess[k] + small)
        out.append(prod ** (1.0 / (k + 1)) * brevity)
    return out


def _exp_min0(x):
    """exp(min(x, 0)): pycocoevalcap's brevity penalty, applied only when the hypothesis is shorter."""
    if isinstance(x, np.ndarray):
        return np.exp(np.minimum(x, 0.0))
    return math.exp(x) if x < 0 else 1.0


def meteor_from_stats(s):
    """Meteor 1.5's score from (summed) statistics ``s`` (23 numbers, or 23 numpy arrays)."""
    s = [np.asarray(v, dtype=float) for v in s]
    tl, rl, tf, rf = s[0], s[1], s[2], s[3]
    d = METEOR_DELTA
    tw = sum(w * (d * s[4 + 4 * i] + (1 - d) * s[6 + 4 * i]) for i, w in enumerate(METEOR_WEIGHTS))
    rw = sum(w * (d * s[5 + 4 * i] + (1 - d) * s[7 + 4 * i]) for i, w in enumerate(METEOR_WEIGHTS))
    tlen = d * (tl - tf) + (1 - d) * tf
    rlen = d * (rl - rf) + (1 - d) * rf
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tlen > 0, tw / np.where(tlen > 0, tlen, 1), 0.0)
        r = np.where(rlen > 0, rw / np.where(rlen > 0, rlen, 1), 0.0)
        denom = METEOR_ALPHA * p + (1 - METEOR_ALPHA) * r
        fmean = np.where((p > 0) & (r > 0), p * r / np.where(denom > 0, denom, 1), 0.0)
        matches = (s[21] + s[22]) / 2
        exact = (s[21] == tl) & (s[22] == rl) & (s[20] == 1)
        frag = np.where(exact | (matches == 0), 0.0, s[20] / np.where(matches > 0, matches, 1))
    score = fmean * (1 - METEOR_GAMMA * frag ** METEOR_BETA)
    return float(score) if score.ndim == 0 else score


def meteor_stats(predictions: list[str], references: list[list[str]]):
    """Per-item Meteor statistics from one Meteor JVM, or (None, reason) when it cannot run."""
    if not java_available():
        return None, "METEOR unavailable: no `java` on PATH (install a Java runtime, e.g. openjdk-17-jre)"
    from pycocoevalcap.meteor.meteor import Meteor

    try:
        meteor = Meteor()
    except OSError as exc:
        return None, f"METEOR unavailable: Java could not start ({exc})"
    try:
        stats = []
        for pred, refs in zip(predictions, references):
            line = meteor._stat(pred, refs)
            stats.append([float(x) for x in line.split()])
            if len(stats[-1]) != 23:
                raise ValueError(f"unexpected Meteor output {line!r}")
    except (OSError, ValueError) as exc:
        return None, f"METEOR unavailable: the Meteor JVM failed ({exc})"
    finally:
        meteor.meteor_p.stdin.close()
        meteor.meteor_p.kill()
        meteor.meteor_p.wait()
    return stats, None


def cider_undefined(refs: list[list[str]], n: int = 4) -> list[bool]:
    """Per item: True when CIDEr-D is undefined (all its reference n-grams, n <= 4, have IDF 0; see card).

    ``refs``: tokenized reference captions per item (space-separated tokens, as pycocoevalcap's)."""
    grams = []
    for item_refs in refs:
        seen = set()
        for ref in item_refs:
            words = ref.split()
            seen.update(tuple(words[i:i + k]) for k in range(1, n + 1) for i in range(len(words) - k + 1))
        grams.append(seen)
    df: dict[tuple, int] = {}
    for seen in grams:
        for gram in seen:
            df[gram] = df.get(gram, 0) + 1
    return [all(df[g] == len(refs) for g in seen) for seen in grams]


def _cider_warning(undefined: list[bool]) -> str | None:
    k, total = sum(undefined), len(undefined)
    if not k:
        return None
    why = ("with one scored item" if total == 1 else
           "every reference n-gram of those items occurs in every scored item's references (one shared "
           "reference set?)")
    if k == total:
        return (f"CIDEr undefined ({why}): CIDEr-D's IDF weights log(N) - log(df) are all 0, so any caption "
                "would score 0; reported as null. Score more items with different references")
    return (f"CIDEr undefined for {k} of {total} items ({why}); their per-item cider is null and they count "
            "as 0 in the corpus CIDEr, as in pycocoevalcap")


def _tokenize_with_fallback(predictions, references, use_java, warnings):
    """PTB-tokenize (Java) when available, else the Python approximation, saying so in ``warnings``."""
    if use_java is None:
        use_java = java_available()
        if not use_java:
            warnings.append("PTBTokenizer unavailable (no `java` on PATH): using a Python approximation; "
                            "COCO metrics may differ slightly from pycocoevalcap's")
    try:
        hyps, refs = tokenize(predictions, references, use_java)
    except (OSError, RuntimeError) as exc:
        warnings.append(f"PTBTokenizer failed ({exc}): using a Python approximation; COCO metrics may differ "
                        "slightly from pycocoevalcap's")
        use_java = False
        hyps, refs = tokenize(predictions, references, use_java)
    return hyps, refs, use_java


def score_captions(predictions: list[str], references: list[list[str]], use_java: bool | None = None,
                   meteor: bool = True) -> dict:
    """Score captions. -> {"items": [per-item dict], "aggregate": {metric: value}, "warnings": [...],
    "tokenizer": "ptb"|"python"}. Aggregate keys have no task prefix; ``meteor`` is None if unavailable."""
    from pycocoevalcap.bleu.bleu_scorer import BleuScorer
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    warnings = []
    if not predictions:
        return {"items": [], "aggregate": {}, "warnings": warnings, "tokenizer": None}
    hyps, refs, use_java = _tokenize_with_fallback(predictions, references, use_java, warnings)
    bleu = BleuScorer(n=N_BLEU)
    for h, r in zip(hyps, refs):
        bleu += (h, r)
    _, sentence_bleu = bleu.compute_score(option="closest", verbose=0)
    keys = list(range(len(hyps)))
    _, cider = Cider().compute_score({k: refs[k] for k in keys}, {k: [hyps[k]] for k in keys})
    rouge = Rouge()

    undefined = cider_undefined(refs)
    if _cider_warning(undefined):
        warnings.append(_cider_warning(undefined))
    stats, why = (meteor_stats(hyps, refs) if use_java and meteor
                  else (None, "METEOR unavailable: needs Java" if meteor else "METEOR skipped"))
    if why:
        warnings.append(why)

    items = []
    for i, comps in enumerate(bleu.ctest):
        testlen = comps["testlen"]
        reflen = min((abs(length - testlen), length) for length in comps["reflen"])[1]
        item = {f"bleu_{k + 1}": float(sentence_bleu[k][i]) for k in range(N_BLEU)}
        item["bleu_stats"] = [testlen, reflen, *comps["guess"], *comps["correct"]]
        item["rouge_l"] = float(rouge.calc_score([hyps[i]], refs[i]))
        item["cider"] = None if undefined[i] else float(cider[i])
        if stats is not None:
            item["meteor"] = meteor_from_stats(stats[i])
            item["meteor_stats"] = stats[i]
        else:
            item["meteor"] = None
        items.append(item)
    from workbench.scoring.aggregate import aggregate_items

    corpus = aggregate_items("caption", items)
    names = [f"bleu_{k + 1}" for k in range(N_BLEU)] + ["meteor", "rouge_l", "cider"]
    return {"items": items, "aggregate": {n: corpus[f"caption/{n}"] for n in names}, "warnings": warnings,
            "tokenizer": "ptb" if use_java else "python"}
