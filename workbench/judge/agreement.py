"""Cohen's kappa between two binary labelings of the same items (Cohen 1960).

kappa = (p_o - p_e) / (1 - p_e), p_o = observed agreement, p_e = sum over the two classes of the product of
the two raters' marginal shares. Undefined (None, with a reason) without items or when p_e = 1 (both raters
gave one and the same class to every item).
"""

from __future__ import annotations


def cohen_kappa(a: list[int], b: list[int]) -> tuple[float | None, str | None]:
    """(kappa, None) or (None, reason); ``a`` and ``b`` are equal-length lists of 0/1."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs two labelings of the same items, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None, "no item has both labels"
    p_o = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    p_e = pa * pb + (1 - pa) * (1 - pb)
    if p_e == 1:
        return None, "both give every item the same single label (chance agreement is 1)"
    return (p_o - p_e) / (1 - p_e), None
