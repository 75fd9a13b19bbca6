"""Linear probes on the frozen encoder: per attribute, how well a linear classifier reads it from the
flattened Q-Former output (exactly what ``llama_proj`` receives).

Fresh probe-split items (never used for pretraining), split in half: train a softmax (or, for multi-label
attributes, per-class logistic) classifier on one half, report accuracy on the other. Multi-label attributes
report exact-set accuracy. Chance = the majority class's share in the test half, reported beside it.
"""

from __future__ import annotations

import torch

from workbench.tiny.build.labels import IGNORE, LabelSpace


def _fit(x: torch.Tensor, y: torch.Tensor, n_out: int, multi: bool, steps: int = 150) -> torch.nn.Linear:
    lin = torch.nn.Linear(x.shape[1], n_out)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = torch.optim.LBFGS(lin.parameters(), lr=0.5, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        out = lin(x)
        if multi:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y)
        else:
            loss = torch.nn.functional.cross_entropy(out, y)
        loss = loss + 1e-3 * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lin


def linear_probe(train_x: torch.Tensor, train_labels: list[dict], test_x: torch.Tensor, test_labels: list[dict],
                 space: LabelSpace) -> dict[str, dict]:
    """attribute -> {"accuracy", "chance", "n_test"} on the test half."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-5
    tr, te = (train_x - mean) / std, (test_x - mean) / std
    t_train, t_test = space.targets(train_labels), space.targets(test_labels)
    results: dict[str, dict] = {}
    for attr, names in space.classes.items():
        multi = attr in space.multi
        ytr, yte = t_train[attr], t_test[attr]
        keep_tr = ytr[:, 0] >= 0 if multi else ytr != IGNORE
        keep_te = yte[:, 0] >= 0 if multi else yte != IGNORE
        if keep_tr.sum() < 4 or keep_te.sum() < 2:
            continue
        with torch.enable_grad():
            lin = _fit(tr[keep_tr], ytr[keep_tr], len(names), multi)
        with torch.no_grad():
            out = lin(te[keep_te])
        if multi:
            pred = out > 0
            acc = (pred == (yte[keep_te] > 0.5)).all(dim=1).float().mean().item()
            rows = [tuple(r.tolist()) for r in (yte[keep_te] > 0.5)]
            chance = max(rows.count(r) for r in set(rows)) / len(rows)
        else:
            acc = (out.argmax(1) == yte[keep_te]).float().mean().item()
            chance = torch.bincount(yte[keep_te]).max().item() / int(keep_te.sum())
        results[attr] = {"accuracy": round(acc, 3), "chance": round(chance, 3), "n_test": int(keep_te.sum())}
    return results
