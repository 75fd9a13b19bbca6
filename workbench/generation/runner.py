"""Run a loaded model over an eval set into a resumable run folder (what ``workbench generate`` does).

Every item's answer depends only on the model, the config, its own prompt and image and -- when
sampling -- its own seed ``row_seed(seed, item id)`` (``sampling.py``); greedy rows are independent of
their batch neighbours (left padding with masked positions). So the loop simply batches the items not
yet written, and a resumed run writes exactly what an uninterrupted one would, each id once. When
sharding (``accelerate launch``), item ``i`` of the eval-set order belongs to process ``i % N``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from workbench.errors import WorkbenchError
from workbench.generation.batch import generate_batch
from workbench.generation.compiled import CompiledDecoding
from workbench.generation.config import GenerationConfig
from workbench.generation.grounding import parse_boxes
from workbench.generation.sampling import row_seed
from workbench.generation.vision_cache import VisionFeatureCache
from workbench.provenance import git_commit, package_versions
from workbench.runs import RunStore, merge_if_complete

VERSIONED_PACKAGES = ("minigpt4-workbench", "torch", "transformers", "tokenizers", "accelerate",
                      "safetensors", "bitsandbytes")


@dataclass
class RunSummary:
    run_dir: str
    predictions_path: str
    errors_path: str
    n_items: int            # items this process is responsible for (after --limit and sharding)
    n_done_before: int      # already in the predictions file when this call started
    n_written: int          # predictions written by this call
    n_errors: int           # items that failed in this call (see errors.jsonl)
    seconds: float
    resumed: bool
    cache: dict = field(default_factory=dict)
    merged_path: str | None = None  # sharded runs: predictions.jsonl once every shard is complete

    @property
    def items_per_s(self) -> float:
        return self.n_written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "items_per_s": round(self.items_per_s, 3)}


def projection_sha256(model) -> str:
    """sha256 over the projection tensors (independent of the file they came from)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.projection_state().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def llm_weights_sha256(model) -> str:
    """The LLM's weights: the fingerprint of its snapshot folder set by ``load_model`` (file sizes, safetensors
    headers, content hashes cached by size and mtime: ``model/fingerprint.py``); for a model built in memory
    (tests), sha256 over its parameters and buffers."""
    recorded = getattr(model, "llm_weights_sha256", None)
    if isinstance(recorded, str):
        return recorded
    digest = hashlib.sha256()
    for name, tensor in sorted(model.llm.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def model_identity(model) -> dict:
    """What makes two loaded models give the same outputs (content hashes, not paths)."""
    template = getattr(model, "template", None)
    llm_param = next(model.llm.parameters())
    name_or_path = getattr(model.llm.config, "_name_or_path", "") or ""
    return {
        "projection_weights_sha256": projection_sha256(model),
        "frozen_fingerprint": model.frozen_fingerprint(),
        "llm_weights_sha256": llm_weights_sha256(model),
        "template": getattr(template, "name", None),
        "connector": getattr(model, "connector", None),
        "llm": Path(name_or_path).name or None,
        "llm_dtype": str(llm_param.dtype).replace("torch.", ""),
        "device_type": llm_param.device.type,
    }


def _device_of(model) -> str:
    try:
        return str(next(model.llm.parameters()).device)
    except (AttributeError, StopIteration):
        return "cpu"


def run_generation(model, eval_set, out_dir: str | Path, config: GenerationConfig | None = None, *,
                   batch_size: int = 8, limit: int | None = None, seed: int = 0,
                   cache: VisionFeatureCache | None = None, model_info: dict | None = None,
                   extra_info: dict | None = None, shard: tuple[int, int] = (0, 1),
                   progress: bool = True, compiled: CompiledDecoding | None = None) -> RunSummary:
    """Generate an answer for every eval-set item not yet in ``out_dir``; see the module docstring.

    ``model`` is a loaded MiniGPT-4 (``workbench.model.loading.load_model``); ``eval_set`` has
    ``.name``, ``.manifest_sha256`` and ``.items`` (``.id``, ``.image_path``, ``.prompt``).
    ``model_info`` adds provenance about where the model came from (spec, card, checkpoint file sha256);
    its ``identity`` entry, if any, is merged into what a resume must match. ``compiled`` (``--compile``):
    static KV cache + ``torch.compile`` (``compiled.py``); it joins the identity, since compiled kernels are other
    kernels (greedy outputs are the same on CPU, tests/test_compiled.py), so a run is resumed the way it began.
    Raises WorkbenchError for a bad ``batch_size``/``limit``, duplicate ids or a run folder made otherwise.
    """
    config = config or GenerationConfig()
    cache = cache if cache is not None else VisionFeatureCache()
    items = _checked_items(eval_set, batch_size, limit)
    identity, info = _run_record(model, eval_set, config, seed, model_info, extra_info, compiled)
    info.update(batch_size=int(batch_size), limit=limit)
    start = time.perf_counter()
    index, count = shard
    mine = [item for i, item in enumerate(items) if i % count == index]
    hits0, misses0 = cache.hits, cache.misses
    with RunStore(out_dir, shard=shard) as store:
        store.open(identity, info)
        _replace_changed_images(store, mine, cache)
        pending = [item for item in mine if str(item.id) not in store.done]
        n_before = len(mine) - len(pending)
        n_written = n_errors = 0
        bar = tqdm(total=len(mine), initial=n_before, desc=f"generate {Path(out_dir).name}", unit="item",
                   disable=not progress)
        for b in range(0, len(pending), batch_size):
            batch = pending[b:b + batch_size]
            results = _generate_items(model, batch, config, cache, seed, n_written == 0, compiled)
            written = _store_results(store, model, batch, results, cache)
            n_written, n_errors = n_written + written, n_errors + len(batch) - written
            bar.update(len(batch))
        bar.close()
        seconds = time.perf_counter() - start
        summary = RunSummary(
            run_dir=str(out_dir), predictions_path=str(store.predictions_path), errors_path=str(store.errors_path),
            n_items=len(mine), n_done_before=n_before, n_written=n_written, n_errors=n_errors,
            seconds=seconds, resumed=store.resumed,
            cache={"hits": cache.hits - hits0, "misses": cache.misses - misses0},
        )
        store.finish({"n_items": len(mine), "n_predictions": len(store.done), "n_errors_last_call": n_errors,
                      "seconds_last_call": round(seconds, 3)})
    if count > 1:
        merged = merge_if_complete(out_dir, count, [str(item.id) for item in items])
        summary.merged_path = str(merged) if merged else None
    return summary


def _checked_items(eval_set, batch_size: int, limit: int | None) -> list:
    """The eval set's first ``limit`` items, after checking the settings and that ids are unique."""
    if batch_size < 1:
        raise WorkbenchError(f"--batch-size must be >= 1, got {batch_size}")
    if limit is not None and limit < 0:
        raise WorkbenchError(f"--limit must be >= 0, got {limit}")
    items = list(eval_set.items)[: limit if limit is not None else None]
    ids = [str(item.id) for item in items]
    if len(set(ids)) != len(ids):
        raise WorkbenchError(f"{eval_set.name}: duplicate item ids; run 'workbench validate' on the eval set")
    return items


def _run_record(model, eval_set, config: GenerationConfig, seed: int, model_info: dict | None,
                extra_info: dict | None, compiled: CompiledDecoding | None) -> tuple[dict, dict]:
    """(identity, info) for run.json: what a resume must match, and the provenance around it."""
    model_info = dict(model_info or {})
    identity = {
        "model": {**model_identity(model), **model_info.pop("identity", {})},
        "generation": config.to_dict(),
        "seed": int(seed),
        "eval_set": {"name": eval_set.name, "manifest_sha256": eval_set.manifest_sha256},
    }
    if compiled is not None:  # absent for the default path, so runs made before --compile existed still resume
        identity["decoding"] = compiled.describe()
    info = {
        "model": model_info,
        "generation": config.to_dict(),
        "decoding": compiled.describe() if compiled is not None else {"compile": False},
        "seed": int(seed),
        "eval_set": {"name": eval_set.name, "root": str(getattr(eval_set, "root", "")),
                     "manifest_sha256": eval_set.manifest_sha256, "n_items": len(eval_set.items)},
        "versions": package_versions(VERSIONED_PACKAGES),
        "git_commit": git_commit(),
        "device": _device_of(model),
        "command": " ".join(sys.argv),
        **(extra_info or {}),
    }
    return identity, info


def _store_results(store: RunStore, model, batch, results: dict, cache: VisionFeatureCache) -> int:
    """Append each item's prediction (or its error) in eval-set order; returns the number of predictions."""
    written = 0
    for item in batch:
        outcome = results[str(item.id)]
        if isinstance(outcome, Exception):
            store.append_error(str(item.id), _error_text(outcome))
            continue
        record = {"id": str(item.id), "output": outcome.output, "n_tokens": outcome.n_tokens,
                  "finish": outcome.finish, "image_sha256": cache.image_sha256(item.image_path)}
        if getattr(getattr(model, "template", None), "name", None) == "minigptv2":
            record["boxes"] = parse_boxes(outcome.output)  # grounding answers, 0-100 grid
        store.append_prediction(record)
        written += 1
    return written


def _replace_changed_images(store: RunStore, items, cache: VisionFeatureCache) -> list[str]:
    """Take out (to replaced.jsonl) the answers whose image file no longer has the bytes they were made from,
    so they are generated again, and say so. Answers written before image hashes were kept are left alone."""
    changed = []
    for item in items:
        done = store.done.get(str(item.id))
        if done is None or "image_sha256" not in done:
            continue
        try:
            now_sha = cache.image_sha256(item.image_path)
        except OSError:
            now_sha = None  # the image is gone: its answer no longer matches the eval set either
        if now_sha != done["image_sha256"]:
            changed.append(str(item.id))
    if changed:
        store.replace(changed, "image file changed since this answer was generated")
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        print(f"{store.run_dir}: {len(changed)} image(s) changed since their answers were generated ({shown}); "
              f"regenerating exactly those (old answers kept in {store.run_dir / 'replaced.jsonl'})",
              file=sys.stderr)
    return changed


def _error_text(exc: Exception) -> str:
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _generate_items(model, items, config: GenerationConfig, cache: VisionFeatureCache, seed: int,
                    allow_raise: bool, compiled: CompiledDecoding | None = None) -> dict:
    """id -> GenerationResult, or the exception that stopped that item.

    Unreadable images fail only their item. If the batched call fails, each item is retried alone so
    one bad item does not take its neighbours down; but while nothing has succeeded yet in this call
    (``allow_raise``), a failure is re-raised: then it is the setup, not an item, that is broken.
    """
    features = cache.features(model, [item.image_path for item in items])
    out: dict = {}
    good = []
    for item, feats in zip(items, features):
        if isinstance(feats, Exception):
            out[str(item.id)] = feats
        else:
            good.append((item, feats))
    if not good:
        return out
    try:
        results = generate_batch(model, [item.prompt for item, _ in good], torch.stack([f for _, f in good]),
                                 config, seeds=[row_seed(seed, str(item.id)) for item, _ in good], compiled=compiled)
        out.update({str(item.id): result for (item, _), result in zip(good, results)})
        return out
    except Exception as exc:
        if allow_raise:
            raise
        if len(good) == 1:
            out[str(good[0][0].id)] = exc
            return out
    for item, feats in good:  # isolate the failing item(s)
        try:
            out[str(item.id)] = generate_batch(model, [item.prompt], feats[None], config,
                                               seeds=[row_seed(seed, str(item.id))], compiled=compiled)[0]
        except Exception as exc:  # recorded in errors.jsonl with its message; the run goes on
            out[str(item.id)] = exc
    return out
