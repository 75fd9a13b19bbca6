"""Curation of the stage-2 pairs, in the spirit of MiniGPT-4's generate -> filter -> fix pipeline (paper §3.2).

The paper let the stage-1 model describe 5,000 images, had ChatGPT repair them, filtered by rules and by hand,
and kept about 3,500. Here:

1. **Generate.** Each candidate image gets a detailed description from the world's describer (the annotation
   plays ChatGPT's part: it knows what is really drawn).
2. **Fix.** Sentences are split and normalised; repeated sentences are dropped; sentences that carry world
   *knowledge* rather than what is visible (recipe steps, ingredient lists, treatments, "recipe", "treat",
   ...) are dropped, so stage 2 can never teach recipes or treatments from images.
3. **Filter** (rules, each counted): too short / too long for ``max_txt_len``, template leakage (``###``,
   ``Human:``, ``Assistant:``, ``<Img>``), residual forbidden knowledge, a repeated 4-gram, and annotation
   mismatch: a scene description must name every object kind that is drawn and no kind that is not; a dish
   description must name the dish; a leaf description must name the crop and the condition.
4. **Keep** the first ``keep`` survivors in seed order, split across the domains by ``shares`` (equal by
   default). The build gives scenes a fifth and dishes and leaves two fifths each
   (``BuildConfig.stage2_scene_share``). With a frozen LLM that reads scene slots, more scene pairs buy caption
   quality at the cost of dish and disease accuracy; the measured trade and the rule that kept a fifth are in
   the model card's known limits (``workbench/tiny/build/card.py``).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from workbench.errors import WorkbenchError
from workbench.tiny.build.config import BuildConfig, stage2_shares

LEAK_MARKERS = ("###", "human:", "assistant:", "<img>", "</img>", "<imagehere>")
KNOWLEDGE_WORDS = ("recipe", "ingredient", "steps", "step ", "treatment", "treat ", "fungicide", "how to make",
                   "bake", "boil", "simmer", "fry ", "remove the infected", "rotate crops")


def split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def has_repeated_ngram(text: str, n: int = 4, times: int = 3) -> bool:
    w = _words(text)
    grams = Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return any(c >= times for c in grams.values())


def forbidden_phrases(items) -> list[str]:
    """World knowledge that must never appear in a stage-2 answer: every recipe step and treatment."""
    phrases: set[str] = set()
    for item in items:
        ref = item.reference or {}
        for key in ("steps", "treatments"):
            for p in ref.get(key, []) or []:
                phrases.add(p.lower().rstrip("."))
    return sorted(phrases)


def fix(text: str, forbidden: list[str]) -> str:
    kept, seen = [], set()
    for sentence in split_sentences(text):
        low = sentence.lower()
        if low in seen:
            continue
        if any(f in low for f in forbidden) or any(k in low for k in KNOWLEDGE_WORDS):
            continue
        seen.add(low)
        kept.append(sentence[0].upper() + sentence[1:])
    return " ".join(kept)


def mentions(text: str, term: str) -> bool:
    return re.search(r"\b" + re.escape(term.lower()) + r"\b", text.lower()) is not None


def annotation_problem(item, text: str, domain: str, kind_synonyms: dict[str, list[str]]) -> str | None:
    ref = item.reference or {}
    if domain == "scene":
        truth = set(ref.get("objects", []))
        named = {k for k, syns in kind_synonyms.items() if any(mentions(text, s) for s in syns)}
        if truth - named:
            return "misses_object"
        if named - truth:
            return "hallucinated_object"
    elif domain == "dish":
        if not mentions(text, ref.get("dish", "")):
            return "misses_dish"
    elif domain == "leaf":
        if not mentions(text, ref.get("crop", "")):
            return "misses_crop"
        if not mentions(text, ref.get("disease", "")):
            return "misses_condition"
    return None


def quotas(keep: int, domains: list[str], shares: dict[str, float] | None = None) -> dict[str, int]:
    """How many of ``keep`` pairs each domain gets: its share (domain -> weight; equal when None) of ``keep``
    rounded down, then one more each for the largest fractions left (ties in domain order). Sums to ``keep``."""
    weights = {d: 1.0 for d in domains} if shares is None else {d: float(shares.get(d, 0.0)) for d in domains}
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"curation shares must be non-negative and not all zero, got {shares}")
    # rounded to 1e-9 first: with a scene share of 0.29, 3500 * 0.29 is 1014.9999999999999, which is 1015
    exact = {d: round(keep * w / total, 9) for d, w in weights.items()}
    quota = {d: math.floor(x) for d, x in exact.items()}
    by_fraction = sorted(domains, key=lambda d: -(exact[d] - quota[d]))  # stable: ties stay in domain order
    for d in by_fraction[: keep - sum(quota.values())]:
        quota[d] += 1
    return quota


def curate(candidates: dict[str, list], keep: int, tokenizer, max_tokens: int,
           kind_synonyms: dict[str, list[str]], min_words: int = 8, shares: dict[str, float] | None = None,
           healthy_share: float | None = None) -> tuple[list[tuple[str, int, str]], dict]:
    """candidates: domain -> world items (seed order). Returns ([(domain, index, text)], stats).
    ``shares``: domain -> weight of the kept pairs (``quotas``); equal when None. ``healthy_share``: the share of
    the kept leaf pairs that show a healthy leaf (``keep_leaves``); None keeps the leaves as they come.

    Raises ValueError when the shares weigh nothing; WorkbenchError when too few healthy (or diseased) leaves
    pass (``keep_leaves``)."""
    all_items = [it for items in candidates.values() for it in items]
    forbidden = forbidden_phrases(all_items)
    stats: dict[str, Counter] = {d: Counter() for d in candidates}
    passed: dict[str, list[tuple[str, int, str]]] = {d: [] for d in candidates}
    for domain, items in candidates.items():
        for index, item in enumerate(items):
            st = stats[domain]
            st["candidates"] += 1
            raw = item.detailed_description
            text = fix(raw, forbidden)
            if text != " ".join(raw.split()):
                st["fixed"] += 1
            low = text.lower()
            reason = None
            if len(_words(text)) < min_words:
                reason = "too_short"
            elif len(tokenizer(text, add_special_tokens=False)["input_ids"]) > max_tokens:
                reason = "too_long"
            elif any(m in low for m in LEAK_MARKERS):
                reason = "template_leak"
            elif any(f in low for f in forbidden):
                reason = "knowledge"
            elif has_repeated_ngram(text):
                reason = "repetition"
            else:
                reason = annotation_problem(item, text, domain, kind_synonyms)
            if reason:
                st["rejected_" + reason] += 1
                continue
            st["passed"] += 1
            passed[domain].append((domain, index, text))
    domains = list(candidates)
    quota = quotas(keep, domains, shares)
    kept: list[tuple[str, int, str]] = []
    for d in domains:
        chosen = passed[d][:quota[d]]
        if d == "leaf" and healthy_share is not None:
            chosen = keep_leaves(passed[d], quota[d], healthy_share, candidates[d])
            stats[d]["kept_healthy"] = sum(_healthy(candidates[d][i]) for _, i, _ in chosen)
        kept.extend(chosen)
        stats[d]["kept"] = len(chosen)
    return kept, {d: dict(sorted(c.items())) for d, c in stats.items()}


def _healthy(item) -> bool:
    return (item.reference or {}).get("disease") == "healthy"


def keep_leaves(passed: list[tuple[str, int, str]], quota: int, healthy_share: float,
                items: list) -> list[tuple[str, int, str]]:
    """The first ``round(quota * healthy_share)`` healthy and the first of the rest diseased leaf pairs of
    ``passed`` (``(domain, index, text)`` in seed order; ``items[index]`` is the world item), back in seed order.

    Raises ValueError when ``healthy_share`` is outside [0, 1]; WorkbenchError when fewer healthy or diseased pairs
    passed than asked (the fix: more candidates, ``stage2_candidates_per_domain``)."""
    if not 0.0 <= healthy_share <= 1.0:
        raise ValueError(f"the healthy share of the kept leaf pairs must be between 0 and 1, got {healthy_share}")
    n_healthy = round(quota * healthy_share)
    healthy = [p for p in passed if _healthy(items[p[1]])]
    diseased = [p for p in passed if not _healthy(items[p[1]])]
    _check_supply(len(healthy), len(diseased), len(items), n_healthy, quota - n_healthy,
                  "leaf pairs passed curation")
    return sorted(healthy[:n_healthy] + diseased[:quota - n_healthy], key=lambda p: p[1])


def check_leaf_supply(leaves: list, quota: int, healthy_share: float | None) -> None:
    """Before any training: the candidate ``leaves`` (world items) must hold at least the healthy and diseased
    counts ``keep_leaves`` will ask of the ``quota`` kept leaf pairs, even if every candidate passed curation.

    Raises WorkbenchError (one line: the counts, and about how many candidates would do) when they do not."""
    if healthy_share is None:
        return
    n_healthy = round(quota * healthy_share)
    have = sum(_healthy(it) for it in leaves)
    _check_supply(have, len(leaves) - have, len(leaves), n_healthy, quota - n_healthy,
                  "leaves are among the stage-2 candidates")


def check_candidate_leaves(cfg: BuildConfig, world, domains: tuple[str, ...]) -> None:
    """A ``stage2_healthy_share`` the stage-2 candidate leaves of build config ``cfg`` cannot meet is refused before
    any work (seconds, not an hour in): ``check_leaf_supply`` on the leaves the build will draw from ``world``."""
    if cfg.stage2_healthy_share is not None:
        seed = world.split_seed("stage2", cfg.seed % 1000)
        leaves = world.sample_items("leaf", cfg.stage2_candidates_per_domain, seed)
        quota = quotas(cfg.stage2_keep, list(domains), stage2_shares(cfg))["leaf"]
        check_leaf_supply(leaves, quota, cfg.stage2_healthy_share)


def _check_supply(healthy: int, diseased: int, candidates: int, want_healthy: int, want_diseased: int,
                  where: str) -> None:
    short = [(want, have) for want, have in ((want_healthy, healthy), (want_diseased, diseased)) if want > have]
    if not short:
        return
    fix = "raise stage2_candidates_per_domain"
    if all(have for _, have in short):  # the same share of a longer seed-ordered list, rounded up to 2 digits
        need = candidates * max(w / h for w, h in short)
        step = 10 ** max(0, len(str(int(need))) - 2)
        fix += f" to about {math.ceil(need / step) * step:,}"
    raise WorkbenchError(f"{healthy} healthy and {diseased} diseased {where}, {want_healthy} and {want_diseased} "
                         f"asked; {fix} (or change stage2_healthy_share) in workbench/tiny/build/config.py")
