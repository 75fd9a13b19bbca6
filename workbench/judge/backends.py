"""Judges: a local model (a transformers folder or a GGUF file) or an OpenAI-compatible HTTP endpoint.

``open_judge(spec, hf_home=None)``:
- ``http://host:port/v1#model-name`` -> ``HttpJudge`` (vLLM, llama.cpp's server, Ollama); the model must be
  listed by ``GET /v1/models``. Identity: endpoint + model id + what the server reports about the model
  (``version``, ``root``, ``owned_by``, ``meta`` fields when present; never the volatile ``created``).
- a folder or a ``.gguf`` file -> ``TransformersJudge``. Identity: sha256 over the weight files' bytes
  (``*.safetensors``, ``*.bin``, ``*.gguf``, sorted by name), so new weights under the same name get new
  cache keys. A GGUF file is de-quantized by transformers once and kept as safetensors under
  ``$HF_HOME/workbench-judge/<sha256[:16]>/`` (loading a GGUF through transformers takes minutes on CPU).
Both decode greedily (temperature 0) at most ``max_new_tokens`` tokens (the protocol's budget) with the
model's chat template.
``complete(prompt)`` raises ``JudgeCallError`` when the call itself fails (not cached, retried next time).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from workbench.errors import WorkbenchError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")
MAX_NEW_TOKENS = 48


class JudgeCallError(RuntimeError):
    """The judge could not be asked (connection, HTTP status, model error)."""


def weights_fingerprint(path) -> str:
    """sha256 over the weight files under ``path`` (or of the file itself), names sorted, streamed."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise WorkbenchError(f"{path}: no weight files ({', '.join(WEIGHT_SUFFIXES)}) to fingerprint")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class TransformersJudge:
    def __init__(self, path, hf_home=None, max_new_tokens: int = MAX_NEW_TOKENS):
        self.path = Path(path)
        if not self.path.exists():
            raise WorkbenchError(f"{self.path}: no such judge model (give a model folder, a .gguf file or "
                                 f"http://host:port/v1#model)")
        _check_local_judge(self.path)
        self.fingerprint = weights_fingerprint(self.path)
        self.name = self.path.name
        self.key = f"transformers:{self.fingerprint}"
        self.identity = {"kind": "transformers", "path": str(self.path), "sha256": self.fingerprint}
        self.max_new_tokens = max_new_tokens
        self._hf_home = Path(hf_home or os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
        self._model = self._tokenizer = None

    def _folder(self) -> Path:
        if self.path.is_dir():
            return self.path
        out = self._hf_home / "workbench-judge" / self.fingerprint[:16]
        if not (out / "model.safetensors").is_file():
            _convert_gguf(self.path, out)
        return out

    def load(self):
        """The model and tokenizer, loaded once. Raises ``WorkbenchError`` (one line) when transformers cannot
        load them."""
        if self._model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                folder = self._folder()
                self._tokenizer = AutoTokenizer.from_pretrained(folder)
                self._model = AutoModelForCausalLM.from_pretrained(folder).eval()
            except (OSError, ValueError, KeyError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise WorkbenchError(f"{self.path}: transformers cannot load it as a judge ({first}); give an "
                                     "instruction-tuned chat model folder or .gguf file") from None
        return self._model, self._tokenizer

    def complete(self, prompt: str, max_new_tokens: int | None = None) -> str:
        import torch

        model, tok = self.load()
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                       tokenize=False)
        ids = tok(text, return_tensors="pt")
        try:
            with torch.no_grad():
                out = model.generate(**ids, max_new_tokens=max_new_tokens or self.max_new_tokens, do_sample=False,
                                     pad_token_id=tok.pad_token_id or tok.eos_token_id)
        except RuntimeError as exc:
            raise JudgeCallError(f"{self.name}: generation failed ({exc})") from exc
        return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def _check_local_judge(path: Path) -> None:
    """Refuse, before any loading, what cannot be a local chat judge: a file that is not GGUF, a folder without
    ``config.json`` or without a chat template (``tokenizer_config.json``'s ``chat_template`` or
    ``chat_template.jinja``): the judge prompts go through the model's chat template."""
    fix = "give an instruction-tuned chat model folder, a .gguf file or http://host:port/v1#model"
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(4) != b"GGUF":
                raise WorkbenchError(f"{path}: not a GGUF file (it does not start with b'GGUF'); {fix}")
        return
    if not (path / "config.json").is_file():
        raise WorkbenchError(f"{path}: no config.json, so not a transformers model folder; {fix}")
    tokenizer_config = path / "tokenizer_config.json"
    try:
        has_template = tokenizer_config.is_file() and bool(
            json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template"))
    except ValueError as exc:
        raise WorkbenchError(f"{tokenizer_config}: not valid JSON ({exc}); {fix}") from None
    if not has_template and not (path / "chat_template.jinja").is_file():
        raise WorkbenchError(f"{path}: its tokenizer has no chat template (a base model, not a chat model); {fix}")


def _convert_gguf(gguf: Path, out: Path) -> None:
    """De-quantize ``gguf`` with transformers and keep it as a plain safetensors folder."""
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(tmp)
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (tmp / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    save_model(model, str(tmp / "model.safetensors"))
    (tmp / "SOURCE").write_text(f"de-quantized from {gguf} by transformers\n", encoding="utf-8")
    tmp.rename(out)


class HttpJudge:
    def __init__(self, spec: str, max_new_tokens: int = MAX_NEW_TOKENS, timeout: float = 120):
        base, sep, model = spec.partition("#")
        if not sep or not model:
            raise WorkbenchError(f"{spec}: name the served model after '#', e.g. http://127.0.0.1:8000/v1#my-model")
        self.base = base.rstrip("/")
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.timeout = timeout
        listed = self._request("GET", "/models").get("data", [])
        entry = next((m for m in listed if m.get("id") == model), None)
        if entry is None:
            names = ", ".join(str(m.get("id")) for m in listed) or "none"
            raise WorkbenchError(f"{self.base}/models does not list {model!r} (it serves: {names})")
        reported = {k: entry[k] for k in ("version", "root", "owned_by", "meta") if k in entry}
        self.name = model
        self.identity = {"kind": "http", "endpoint": self.base, "model": model, "reported": reported}
        self.key = "http:" + hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise JudgeCallError(f"{self.base}{path}: {exc}") from exc

    def complete(self, prompt: str, max_new_tokens: int | None = None) -> str:
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0,
                "max_tokens": max_new_tokens or self.max_new_tokens}
        reply = self._request("POST", "/chat/completions", body)
        try:
            return reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise JudgeCallError(f"{self.base}/chat/completions: unexpected reply {str(reply)[:120]}") from None


def open_judge(spec: str, hf_home=None):
    """A judge from ``--judge``: an http(s) URL with ``#model``, or a local folder / .gguf file."""
    if spec.startswith(("http://", "https://")):
        try:
            return HttpJudge(spec)
        except JudgeCallError as exc:
            raise WorkbenchError(f"cannot reach the judge endpoint: {exc}") from None
    return TransformersJudge(spec, hf_home=hf_home)
