"""The frozen vision side (ViT + Q-Former, ``blip2/``) of an earlier build, reused instead of trained again.

How a corpus or LLM setting is tried without the vision phase (about a quarter of a full build's CPU time): the
vision phase reads the world's pretraining images and its own settings, never the corpus, the LLM or the stages, so
a build whose vision settings, seed and thread count equal the earlier build's gets the same ``blip2/`` bytes, and
with them the same bytes downstream, as a full build (tests/test_train_build.py checks it at micro scale).
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.model.snapshots import load_blip2
from workbench.tiny.build.common import LossLog, earlier_build_summary
from workbench.tiny.build.config import BuildConfig
from workbench.tiny.build.labels import LabelSpace

# Settings the vision phase never reads (prefixes and names): only these may differ from the source build. A
# setting added later is compared until it is listed here, so a new one can only make reuse refuse, never lie.
NOT_READ_BY_VISION = ("vocab_size", "corpus_", "llm_", "stage1_", "stage2_", "proj_init_std", "eval_items",
                      "probe_items_per_domain")


def _read_by_vision(key: str) -> bool:
    return not any(key == n or (n.endswith("_") and key.startswith(n)) for n in NOT_READ_BY_VISION)


def check_vision_source(source: str | Path, cfg: BuildConfig, out: str | Path) -> dict:
    """The build summary of the build in ``source`` (a folder with ``blip2/`` and ``build_summary.json`` whose
    vision phase finished), after checking that its config equals ``cfg`` in every setting the vision phase reads,
    that its snapshot loads, and that it is not ``out`` (the new build's folder, whose blip2/ the build replaces).

    Raises WorkbenchError (one line, naming the folder and the fix) when the folder, its snapshot or its vision
    summary is missing, or when a setting the vision phase reads differs (named)."""
    source = Path(source)
    summary = earlier_build_summary(source, out, "--vision-from", "blip2", ("config.json",), "vision",
                                    "the folder of an earlier build of the same seed and threads")
    wanted, had = cfg.as_dict(), summary["config"]
    if had.get("scale") != wanted["scale"]:
        raise WorkbenchError(f"{source}: a {had.get('scale')}-scale build, and this one is {wanted['scale']}-scale; "
                             "reuse a build of the same scale, or build without --vision-from")
    differ = sorted(k for k in set(wanted) | set(had) if _read_by_vision(k) and had.get(k) != wanted.get(k))
    if differ:
        raise WorkbenchError(
            f"{source}: built with {', '.join(f'{k} {had.get(k)}' for k in differ)} where this build asks for "
            f"{', '.join(f'{k} {wanted.get(k)}' for k in differ)}, which the vision phase reads; reuse a build made "
            "with these, or build without --vision-from")
    try:   # the weights too, now: not after the LLM's half hour, with the output folder half rewritten
        load_blip2(source / "blip2")
    except (WorkbenchError, OSError, ValueError, KeyError) as err:
        raise WorkbenchError(f"{source / 'blip2'}: cannot load it ({err}); reuse a complete build, or build without "
                             "--vision-from") from err
    return summary


def load_vision(source: str | Path, labels: list[dict], log: LossLog) -> tuple:
    """-> (vision, qformer, query_tokens, label space, vision info, provenance) from ``source/blip2``, frozen and in
    eval mode, as ``vision_pretrain.pretrain_vision`` returns the first five; ``labels``: the flattened labels of
    the pretraining items (the label space the linear probes use is rebuilt from them). The source's vision loss
    lines go to ``log``. ``provenance``: {"vision_reused_from": the absolute source, "vision_trained_in": the
    build that trained it}, for the build summary. Call ``check_vision_source`` first."""
    source = Path(source)
    vision, qformer, query_tokens = load_blip2(source / "blip2")
    for module in (vision, qformer):
        module.eval()
        module.requires_grad_(False)
    query_tokens.requires_grad_(False)
    summary = json.loads((source / "build_summary.json").read_text())
    for record in vision_loss_records(source):
        log.log(**record)
    provenance = {"vision_reused_from": str(source.resolve()),
                  "vision_trained_in": summary.get("vision_trained_in") or str(source.resolve())}
    return vision, qformer, query_tokens, LabelSpace.from_labels(labels), summary["vision"], provenance


def vision_loss_records(source: str | Path) -> list[dict]:
    """The ``"vision"`` lines of ``source/loss_log.jsonl`` (``common.LossLog`` records), in order: logged again,
    they make the new build's loss log what training the vision side would have written. Empty without a log."""
    path = Path(source) / "loss_log.jsonl"
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("phase") == "vision"]
