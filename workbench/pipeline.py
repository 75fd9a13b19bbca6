"""The evaluation pipeline as plain functions; the notebooks and ``workbench pipeline`` call these.

    evaluate(model, eval_set, run_dir)        generate (resumable, reuses a finished run) -> score
    ablation(run_dirs, eval_set, out_html)    compare (paired bootstrap) -> compare.json + HTML report
    run_pipeline()                            papermill: 02_evaluate per (checkpoint, eval set),
                                              03_ablation_report per eval set -> reports/index.html
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import workbench
from workbench.errors import WorkbenchError
from workbench.pipeline_config import DEFAULT_EVAL_SETS, DEFAULT_MODELS, PipelineConfig

__all__ = ["DEFAULT_EVAL_SETS", "DEFAULT_MODELS", "PipelineConfig", "ablation", "eval_set_arg", "evaluate", "resolve",
           "run_dir_for", "run_pipeline", "scratch_dir"]

REPO_ROOT = Path(workbench.__file__).resolve().parent.parent
# POPE reads only an answer's first sentence; a yes/no question gets this many new tokens unless told otherwise
# (the tiny model, never taught to stop after "yes", would otherwise write 300 tokens per question).
POPE_MAX_NEW_TOKENS = 32


def resolve(path: str | Path) -> Path:
    """An input path (eval set, existing run) as given if it exists from here, else relative to the repository
    (eval-set names such as ``synth-recipes``). Output paths never go through this: they are relative to the
    caller's working folder."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    for base in (REPO_ROOT, REPO_ROOT / "eval_sets"):
        if (base / path).exists():
            return base / path
    return REPO_ROOT / path


def eval_set_arg(value: "str | Path") -> str:
    """An ``--eval-set`` / ``EVAL_SET`` argument (str or Path) as the verbs read it: a folder as given when it exists from the
    caller's folder, else an embedded eval set's name (``synth-recipes``) under the repository's ``eval_sets/``;
    left as given when neither exists, so the error names what the user typed."""
    found = resolve(value)
    return str(found) if found.exists() else str(value)


def run_dir_for(runs_root: str | Path, model: str, eval_set: str | Path) -> Path:
    """``runs/<model>/<eval set>``: one folder per (checkpoint, eval set); ``model`` may be a card path,
    ``eval_set`` a path (only its name is used)."""
    return Path(runs_root) / Path(str(model)).stem / Path(eval_set).name


def generate(model: str, eval_set, run_dir: Path, config, *, batch_size: int, limit: int | None, seed: int,
             device: str = "auto", load_in_8bit: bool = False, cache_dir: Path | None = None,
             shard: tuple[int, int] = (0, 1), progress: bool = True, extra_info: dict | None = None,
             set_aside: bool = False, task: str | None = None, compiled=None):
    """The one generation flow (``workbench generate``, ``evaluate``): choose the device, load ``model`` (preset
    or card) once, and run ``generation.run_generation`` over ``eval_set`` (an EvalSet) into ``run_dir``, with the
    vision-feature cache in ``cache_dir`` (None: no cache). ``set_aside``: keep a run made with other weights of
    this model as ``<run>.replaced-<time>`` first. ``task``: MiniGPT-v2's task word put before every prompt that
    has none (``templates.for_task``; recorded in run.json, and a resume must use the same). ``compiled``: a
    ``generation.compiled.CompiledDecoding`` (``--compile``) or None. -> (RunSummary, DeviceChoice)."""
    from workbench.devices import choose_device
    from workbench.generation import VisionFeatureCache, run_generation
    from workbench.model.loading import load_model
    from workbench.model.templates import for_task

    choice = choose_device(device, load_in_8bit)
    loaded = load_model(model, device=choice.device, dtype=choice.dtype, load_in_8bit=choice.load_in_8bit)
    loaded.template = for_task(loaded.template, task, str(model))
    if set_aside:
        set_aside_if_other_weights(run_dir, loaded)
    summary = run_generation(
        loaded, eval_set, run_dir, config, batch_size=batch_size, limit=limit, seed=seed,
        cache=VisionFeatureCache(cache_dir), shard=shard, progress=progress, compiled=compiled,
        model_info={"spec": str(model), "card": getattr(loaded, "card", None),
                    "projection_sha256": getattr(loaded, "projection_sha256", None),
                    **({"task": task, "identity": {"task": task}} if task else {})},
        extra_info={"device_choice": choice.describe(), **(extra_info or {})},
    )
    return summary, choice


def evaluate(model: str, eval_set: str | Path, run_dir: str | Path, *, limit: int | None = None,
             batch_size: int = 16, seed: int = 0, sample: bool = False, max_new_tokens: int | None = None,
             device: str = "auto", cache_dir: str | Path | None = None, progress: bool = True,
             provenance: dict | None = None, compiled: bool = False) -> dict:
    """Generate ``model``'s answers for ``eval_set`` into ``run_dir`` (resuming), then score them.

    A relative ``run_dir`` is relative to the working folder. ``provenance`` (e.g. the pipeline config and its
    hash) is recorded in run.json under ``pipeline``. ``compiled``: decode with a static KV cache and
    ``torch.compile`` (``generation/compiled.py``). Returns the scores.json content.
    """
    from workbench.evalsets import load_eval_set
    from workbench.generation import GenerationConfig
    from workbench.generation.compiled import CompiledDecoding
    from workbench.scoring import score_run

    es = load_eval_set(resolve(eval_set), check_images=False)
    if max_new_tokens is None and es.items and set(es.counts()) == {"pope"}:
        max_new_tokens = POPE_MAX_NEW_TOKENS
    run_dir = Path(run_dir).absolute()
    config = GenerationConfig.from_flags(sample=sample, max_new_tokens=max_new_tokens)
    # Default as `workbench generate`: beside the run folder. The pipeline passes one cache for all its runs.
    cache = Path(cache_dir) if cache_dir else run_dir.resolve().parent / ".vision-cache"
    generate(model, es, run_dir, config, batch_size=batch_size, limit=limit, seed=seed, device=device,
             cache_dir=cache, progress=progress, set_aside=True, compiled=CompiledDecoding() if compiled else None,
             extra_info={"pipeline": provenance} if provenance else None)
    return score_run(run_dir, es)


WEIGHT_KEYS = ("projection_weights_sha256", "frozen_fingerprint")


def set_aside_if_other_weights(run_dir: Path, model) -> Path | None:
    """The pipeline names run folders by model preset (``runs/tiny-stage2/<eval set>``), so after ``make tiny``
    the folder holds outputs of the old weights. Rename it to ``<name>.replaced-<UTC time>`` (nothing is deleted)
    and return the new path; None if there is no run or it was made with these weights. Other differences
    (generation settings, eval set) still make the run store refuse, as ``workbench generate`` does."""
    from workbench.generation.runner import model_identity
    from workbench.run_record import RUN_INFO, RunRecord

    if not (run_dir / RUN_INFO).is_file():
        return None
    old = RunRecord.load(run_dir).identity.get("model", {})
    new = model_identity(model)
    if all(old.get(k) == new[k] for k in WEIGHT_KEYS):
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = run_dir.with_name(f"{run_dir.name}.replaced-{stamp}")
    run_dir.rename(target)
    print(f"{run_dir}: made with other weights of this model (rebuilt?); kept it as {target}, generating afresh")
    return target


def ablation(run_dirs: list[str | Path], eval_set: str | Path, out_html: str | Path, *,
             compare_json: str | Path | None = None, n_resamples: int = 10000, seed: int = 0,
             progress: bool = True) -> dict:
    """Compare ``run_dirs`` (the first is the baseline), write compare.json and the HTML report; the runs are
    loaded and scored once (``report.render.report_runs``)."""
    from workbench.report.index import compare_path_for
    from workbench.report.render import report_runs

    out_html = Path(out_html)
    _, result = report_runs([resolve(r) for r in run_dirs], resolve(eval_set), out_html, n_resamples=n_resamples,
                            seed=seed, show_progress=progress,
                            save_compare=Path(compare_json) if compare_json else compare_path_for(out_html))
    return result


@dataclass
class PipelineResult:
    index_html: Path
    seconds: float
    reports: dict[str, Path] = field(default_factory=dict)
    notebooks: list[Path] = field(default_factory=list)


KERNEL_NAME = "minigpt4-workbench"


@contextmanager
def own_kernel():
    """A kernelspec for this very interpreter (``sys.executable``), put first on ``JUPYTER_PATH`` for the
    duration: papermill then runs the notebooks in the workbench's own Python whatever kernelspecs the user
    has (a user-level ``python3`` for another Python, ``JUPYTER_PREFER_ENV_PATH=0``, ...)."""
    import json
    import os
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="workbench-kernel-") as root:
        spec = Path(root) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"MiniGPT-4 Workbench ({sys.executable})", "language": "python",
            "metadata": {"debugger": False}}), encoding="utf-8")
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join([root] + ([old] if old else []))
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def _execute(notebook: Path, out: Path, parameters: dict, cwd: Path) -> Path:
    import papermill

    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with own_kernel() as kernel_name:
            papermill.execute_notebook(str(notebook), str(out), parameters=parameters, cwd=str(cwd),
                                       progress_bar=False, kernel_name=kernel_name,
                                       # the kernel's start/stop chatter (TCP warning, shutdown interrupt) is noise
                                       extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    except papermill.PapermillExecutionError as exc:
        raise WorkbenchError(
            f"{notebook.name} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue}); "
            f"the executed notebook with the traceback is {out}"
        ) from None
    return out


def embedded_spread(models: list[str]) -> tuple[dict | None, str]:
    """The embedded model's seed spread for the index page, when ``models`` are its two stages in order (the
    default): (``seed_spread.spread_by_row`` of ``models/tiny/seed_spread.json``, that path relative to the
    repository), else (None, ""). Raises WorkbenchError when the file is there but unreadable."""
    from workbench.model.cards import PRESETS, models_dir
    from workbench.tiny.diagnostics.seed_spread import SPREAD_FILE, read_spread, spread_by_row

    if list(models) != list(DEFAULT_MODELS):
        return None, ""
    relative = Path(PRESETS[DEFAULT_MODELS[0]]).parent / SPREAD_FILE   # tiny/seed_spread.json
    path = models_dir() / relative
    if not path.is_file():
        return None, ""
    return spread_by_row(read_spread(path)), f"models/{relative.as_posix()}"


def run_pipeline(config: PipelineConfig | None = None, log=print, **overrides) -> PipelineResult:
    """The demo: every checkpoint over every eval set via 02_evaluate, one 03_ablation_report per eval set,
    then ``index.html`` linking the reports, the comparisons and the executed notebooks.

    ``config`` (default: ``PipelineConfig()``) with ``overrides`` applied (same field names). Relative ``out``
    and ``runs`` are relative to the working folder; files are named after the eval set's and the model's
    names, never their paths. The config's file, hash and settings go into every run's provenance and the
    index page."""
    from workbench.report.index import write_index

    config = PipelineConfig(**{**(config or PipelineConfig()).__dict__, **overrides})
    config.out, config.runs = str(config.out), str(config.runs)  # paths may come as Path objects
    config.models, config.eval_sets = [str(m) for m in config.models], [str(e) for e in config.eval_sets]
    models = config.ordered_models()
    start = time.perf_counter()
    out_dir, runs_root = Path(config.out).absolute(), Path(config.runs).absolute()
    notebooks, executed = REPO_ROOT / "notebooks", out_dir / "notebooks"
    result = PipelineResult(index_html=out_dir / "index.html", seconds=0.0)
    for es in config.eval_sets:
        es_path = resolve(es).absolute()
        name = es_path.name
        for model in models:
            run_dir = run_dir_for(runs_root, model, name)
            log(f"[pipeline] 02_evaluate  {model} on {name} -> {run_dir}")
            result.notebooks.append(_execute(
                notebooks / "02_evaluate.ipynb", executed / f"02_evaluate-{Path(model).stem}-{name}.ipynb",
                dict(model=str(model), eval_set=str(es_path), run_dir=str(run_dir), limit=config.limit,
                     batch_size=config.batch_size, seed=config.seed, sample=config.sample,
                     max_new_tokens=config.max_new_tokens, compiled=config.compile,
                     cache_dir=str(runs_root / ".vision-cache"),
                     provenance=config.provenance()), out_dir))
        log(f"[pipeline] 03_ablation_report on {name}")
        report = out_dir / f"{name}.html"
        result.notebooks.append(_execute(
            notebooks / "03_ablation_report.ipynb", executed / f"03_ablation_report-{name}.ipynb",
            dict(run_dirs=[str(run_dir_for(runs_root, m, name)) for m in models], eval_set=str(es_path),
                 out_html=str(report), n_resamples=config.resamples, seed=config.seed), out_dir))
        result.reports[name] = report
    result.seconds = time.perf_counter() - start
    settings = {k: config.settings()[k] for k in ("limit", "batch_size", "max_new_tokens", "sample", "seed",
                                                  "compile", "resamples")}
    if settings["max_new_tokens"] is None:   # each set's default: say which, not "None"
        from workbench.generation.config import CHAT_MAX_NEW_TOKENS

        settings["max_new_tokens"] = f"{POPE_MAX_NEW_TOKENS} for POPE sets, {CHAT_MAX_NEW_TOKENS} for the others"
    if config.source:
        settings |= {"config": Path(config.source).name, "config_sha256": config.source_sha256}
    spread, spread_source = embedded_spread(models)
    write_index(result.index_html, result.reports, result.notebooks, models=models, seconds=result.seconds,
                settings=settings, spread=spread, spread_source=spread_source)
    return result


def scratch_dir(purpose: str) -> Path:
    """A fresh temporary folder: where a notebook's smoke-test defaults write, so that they never meet runs
    left by another model build (which `workbench generate` would rightly refuse to resume)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"workbench-{purpose}-"))
