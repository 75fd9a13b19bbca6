"""An evaluation pipeline declared once in a file (``workbench pipeline --config eval.yaml``).

```yaml
models: [tiny-stage1, tiny-stage2]      # presets or model-card files; the baseline is compared against
baseline: tiny-stage1                   # default: the first model
eval_sets: [synth-recipes]              # folders or names under eval_sets/
generation: {batch_size: 16, max_new_tokens: 300, sample: false, seed: 0, compile: false}
limit: 20                               # first N items of each eval set (null: all)
resamples: 10000                        # bootstrap / permutation resamples
out: reports                            # report folder
runs: runs                              # run folders root
```

Relative paths in the file (model cards, eval sets, ``out``, ``runs``) are relative to the file's folder;
relative paths given as flags are relative to the caller's working folder. Flags override the file. The
file's sha256 and the settings in effect go into every run's provenance and onto the index page.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError

DEFAULT_MODELS = ("tiny-stage1", "tiny-stage2")
DEFAULT_EVAL_SETS = ("synth-captions", "synth-recipes", "synth-plants", "synth-pope")
GENERATION_KEYS = ("batch_size", "max_new_tokens", "sample", "seed", "compile")
TOP_KEYS = ("models", "baseline", "eval_sets", "generation", "limit", "resamples", "out", "runs")


@dataclass
class PipelineConfig:
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    eval_sets: list[str] = field(default_factory=lambda: list(DEFAULT_EVAL_SETS))
    baseline: str | None = None       # one of ``models``; None: the first
    batch_size: int = 16
    max_new_tokens: int | None = None
    sample: bool = False
    seed: int = 0
    compile: bool = False             # static KV cache + torch.compile (generation/compiled.py)
    limit: int | None = None
    resamples: int = 10000
    out: str = "reports"
    runs: str = "runs"
    source: str | None = None         # the config file, if any
    source_sha256: str | None = None  # sha256 of its bytes

    def ordered_models(self) -> list[str]:
        """The models with the baseline first (reports compare every model against the first)."""
        if self.baseline is None:
            return list(self.models)
        if self.baseline not in self.models:
            raise WorkbenchError(f"{self.source or 'pipeline'}: baseline {self.baseline!r} is not one of the "
                                 f"models {self.models}; name one of them")
        return [self.baseline] + [m for m in self.models if m != self.baseline]

    def settings(self) -> dict:
        """The settings in effect (what the index page and each run's provenance show)."""
        return {k: v for k, v in asdict(self).items() if k not in ("source", "source_sha256")}

    def provenance(self) -> dict:
        return {"config": self.source, "config_sha256": self.source_sha256, "settings": self.settings()}


def _relative_to(base: Path, value: str) -> str:
    """A path in a config file: relative to the file's folder when it exists there (or is an output
    folder); a bare name that does not (a preset, an eval set under eval_sets/) is kept as written."""
    path = Path(value)
    if path.is_absolute() or not (base / path).exists():
        return value
    return str((base / path).resolve())


def load_config(path: str | Path) -> PipelineConfig:
    """Read a pipeline YAML (or JSON) file. Unknown keys and wrong types raise ``WorkbenchError`` naming
    the file and the key."""
    import yaml

    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw) or {}
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot read the pipeline config ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise WorkbenchError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: expected a mapping of settings ({', '.join(TOP_KEYS)})")
    unknown = sorted(set(data) - set(TOP_KEYS))
    generation = data.get("generation") or {}
    unknown += [f"generation.{k}" for k in sorted(set(generation) - set(GENERATION_KEYS))]
    if unknown:
        raise WorkbenchError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(TOP_KEYS)} "
                             f"and generation.{{{', '.join(GENERATION_KEYS)}}}")
    base = path.parent
    config = PipelineConfig(source=str(path), source_sha256=hashlib.sha256(raw).hexdigest())
    for key in ("models", "eval_sets"):
        if key in data:
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]) or not data[key]:
                raise WorkbenchError(f"{path}: '{key}' must be a non-empty list of names or paths")
            setattr(config, key, [_relative_to(base, v) for v in data[key]])
    if data.get("baseline") is not None:
        config.baseline = _relative_to(base, str(data["baseline"]))
    for key in ("out", "runs"):
        if key in data:
            config.__dict__[key] = str((base / str(data[key])).resolve())
    _set_numbers(config, {**{k: data[k] for k in ("limit", "resamples") if k in data}, **generation}, path)
    config.ordered_models()  # a baseline that is not a model is an error now, not after generating
    return config


def _set_numbers(config: PipelineConfig, values: dict, path: Path) -> None:
    for key, value in values.items():
        if key in ("sample", "compile"):
            if not isinstance(value, bool):
                raise WorkbenchError(f"{path}: 'generation.{key}' must be true or false, got {value!r}")
        elif value is not None or key not in ("limit", "max_new_tokens"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise WorkbenchError(f"{path}: '{key}' must be a non-negative integer, got {value!r}")
        setattr(config, key, value)
