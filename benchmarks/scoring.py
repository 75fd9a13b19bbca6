"""Caption scoring speed: our scorer vs pycocoevalcap's own calls, as a ratio measured in one run.

    .venv/bin/python benchmarks/scoring.py [--n 5000] [--seed 0]

Both sides compute BLEU-1..4, METEOR, ROUGE-L and CIDEr over the same synthetic, deterministic captions
(``--n`` items, 5 references each) with the PTB tokenizer. pycocoevalcap's side is what ``COCOEvalCap``
does minus SPICE: tokenize references, tokenize predictions, then Bleu, Meteor, Rouge, Cider. Ours is
``workbench.scoring.caption.score_captions`` (one tokenizer call, per-item statistics, corpus values
from ``aggregate_items``). Also printed: METEOR's JVM start-up alone, the whole ``score_predictions``
(adds CHAIR and failure flags), and bootstrap aggregation speed (10,000 resamples of 200 items).
Target: ours / pycocoevalcap <= 1.3.
"""

from __future__ import annotations

import argparse
import random
import time

WORDS = {
    "subject": ["a man", "a woman", "two dogs", "a cat", "a child", "three people", "a bus", "a horse", "a bird"],
    "verb": ["is sitting on", "stands next to", "is riding", "walks along", "is looking at", "plays with",
             "lies on", "is parked near", "runs across"],
    "object": ["a red couch", "the beach", "a wooden bench", "a busy street", "a green field", "the snow",
               "a kitchen table", "a large tree", "the water", "a white plate of food"],
    "tail": ["", " in the sun", " at night", " with a frisbee", " near the ocean", " on a cloudy day",
             " while people watch", ", smiling"],
}


def sentence(rng: random.Random) -> str:
    return (f"{rng.choice(WORDS['subject'])} {rng.choice(WORDS['verb'])} "
            f"{rng.choice(WORDS['object'])}{rng.choice(WORDS['tail'])}.").capitalize()


def make_data(n: int, seed: int):
    rng = random.Random(seed)
    refs = [[sentence(rng) for _ in range(5)] for _ in range(n)]
    preds = [sentence(rng) + (" " + sentence(rng) if rng.random() < 0.5 else "") for _ in range(n)]
    return preds, refs


def pycocoevalcap_time(preds, refs) -> float:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    start = time.perf_counter()
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in r] for i, r in enumerate(refs)})
    res = tok.tokenize({i: [{"caption": p}] for i, p in enumerate(preds)})
    results = {}
    for name, scorer in (("bleu", Bleu(4)), ("meteor", Meteor()), ("rouge", Rouge()), ("cider", Cider())):
        results[name], _ = (scorer.compute_score(gts, res, verbose=0) if name == "bleu"
                            else scorer.compute_score(gts, res))
    elapsed = time.perf_counter() - start
    print(f"  pycocoevalcap: bleu_4 {results['bleu'][3]:.4f} meteor {results['meteor']:.4f} "
          f"rouge_l {results['rouge']:.4f} cider {results['cider']:.4f}")
    return elapsed


def ours_time(preds, refs) -> float:
    from workbench.scoring.caption import score_captions

    start = time.perf_counter()
    result = score_captions(preds, refs)
    elapsed = time.perf_counter() - start
    a = result["aggregate"]
    print(f"  ours:          bleu_4 {a['bleu_4']:.4f} meteor {a['meteor']:.4f} "
          f"rouge_l {a['rouge_l']:.4f} cider {a['cider']:.4f}")
    return elapsed


def meteor_startup() -> float:
    from pycocoevalcap.meteor.meteor import Meteor

    start = time.perf_counter()
    meteor = Meteor()
    meteor._stat("a dog", ["a dog on a couch"])
    elapsed = time.perf_counter() - start
    meteor.meteor_p.stdin.close()
    meteor.meteor_p.kill()
    meteor.meteor_p.wait()
    return elapsed


def full_score_time(preds, refs) -> float:
    from pathlib import Path

    from workbench.evalsets import EvalItem, EvalSet
    from workbench.scoring import score_predictions

    items = [EvalItem(id=str(i), task="caption", image="x.png", image_path=Path("x.png"), prompt="",
                      reference={"captions": r, "objects": ["dog", "cat", "person"]}) for i, r in enumerate(refs)]
    es = EvalSet(name="bench", root=Path("."), items=items, manifest_sha256="0",
                 vocabulary={"dog": ["dogs"], "cat": [], "person": ["man", "woman", "people", "child"],
                             "horse": [], "bird": [], "bus": [], "couch": []})
    start = time.perf_counter()
    score_predictions(es, {str(i): {"id": str(i), "output": p, "finish": "stop"} for i, p in enumerate(preds)})
    return time.perf_counter() - start


def bootstrap_time(preds, refs) -> tuple[float, float]:
    import numpy as np

    from workbench.scoring import Aggregator, aggregate_items
    from workbench.scoring.caption import score_captions

    items = [dict(it, failure=0) for it in score_captions(preds[:200], refs[:200], meteor=True)["items"]]
    index = np.random.default_rng(0).integers(0, 200, size=(10_000, 200))
    start = time.perf_counter()
    Aggregator("caption", items).resample(index)
    vectorized = time.perf_counter() - start
    start = time.perf_counter()
    for row in index[:1000]:
        aggregate_items("caption", [items[i] for i in row])
    per_call = (time.perf_counter() - start) * 10  # scaled to 10,000 calls
    return vectorized, per_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    preds, refs = make_data(args.n, args.seed)
    print(f"{args.n} caption items, 5 references each; BLEU-1..4, METEOR, ROUGE-L, CIDEr (no SPICE)")
    theirs = pycocoevalcap_time(preds, refs)
    ours = ours_time(preds, refs)
    print(f"pycocoevalcap {theirs:.1f} s | ours {ours:.1f} s | ratio ours/pycocoevalcap {ours / theirs:.2f} "
          f"(target <= 1.3)")
    print(f"METEOR JVM start-up (first score of a fresh Meteor): {meteor_startup():.1f} s")
    full = full_score_time(preds, refs)
    print(f"score_predictions (COCO metrics + CHAIR + failure flags): {full:.1f} s, "
          f"ratio to pycocoevalcap {full / theirs:.2f}")
    vectorized, looped = bootstrap_time(preds, refs)
    print(f"10,000 bootstrap aggregates of 200 caption items: Aggregator.resample {vectorized:.2f} s, "
          f"aggregate_items per resample {looped:.1f} s")


if __name__ == "__main__":
    main()
