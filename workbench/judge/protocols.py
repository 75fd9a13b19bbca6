"""Judging protocols: a versioned prompt template shipped in ``templates/<name>.v<N>.txt`` and a parser.

- ``failure`` (v1): is the answer a coherent, on-task response to the question? The MiniGPT-4 paper's
  failure rate, judged by a model instead of by hand. Per item ``judge_failure`` = 1 when the judge says
  "no", 0 when it says "yes".
- ``relative`` (v1): LLaVA-Bench's pair rating (LLaVA ``llava/eval/eval_gpt_review_bench.py`` and its
  ``rule.json`` prompt): the judge rates the reference answer (Assistant 1) and the model's answer
  (Assistant 2) 1-10 on the first line of its reply. Per item ``judge_relative_reference`` and
  ``judge_relative_model``; corpus ``judge_relative`` = mean(model) / mean(reference) x 100 over the items
  judged successfully. LLaVA turns an unreadable reply into [-1, -1] and averages it in; here it is a failure.
- ``match`` (v1): does the answer name the reference dish / crop and disease / POPE label? Per item
  ``judge_match`` 1 or 0. Not defined for captions (no single target).
A reply that does not parse is a failed judgement: stored and counted, never a number.
The template hash (sha256 of the file's bytes, first 16 hex digits) is part of every cache key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

PROTOCOLS = {"failure": 1, "relative": 1, "match": 1}   # name -> current template version
# new-token budget of a reply: a yes/no word, or LLaVA's score line (its explanation is not needed)
MAX_NEW_TOKENS = {"failure": 8, "relative": 16, "match": 8}


class UnparsableReply(ValueError):
    """The judge's reply does not have the form the protocol asks for."""


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    template: str

    @property
    def template_hash(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:16]

    @property
    def max_new_tokens(self) -> int:
        return MAX_NEW_TOKENS[self.name]

    @property
    def label(self) -> str:
        return f"{self.name}.v{self.version}"

    def applies(self, task: str) -> bool:
        return not (self.name == "match" and task == "caption")

    def prompt(self, task: str, question: str, reference: dict, answer: str) -> str:
        """The judge's prompt for one item (``answer`` is the model output, "" when missing)."""
        return self.template.format(question=question, answer=answer, reference=reference_text(task, reference),
                                    target=match_target(task, reference))

    def parse(self, reply: str) -> dict:
        """Reply -> per-item fields (see the module docstring); raises ``UnparsableReply``."""
        if self.name == "relative":
            return parse_pair(reply)
        word = yes_no(reply)
        return {"judge_failure": int(word == "no")} if self.name == "failure" else {"judge_match": int(word == "yes")}


def load_protocol(name: str, version: int | None = None) -> Protocol:
    """The shipped template of ``name`` (latest version unless given); ValueError for unknown ones."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown judge protocol {name!r} (known: {', '.join(PROTOCOLS)})")
    version = PROTOCOLS[name] if version is None else version
    path = resources.files("workbench.judge") / "templates" / f"{name}.v{version}.txt"
    if not path.is_file():
        raise ValueError(f"no template {name}.v{version}.txt shipped in workbench/judge/templates")
    return Protocol(name, version, path.read_text(encoding="utf-8"))


def yes_no(reply: str) -> str:
    """"yes" or "no" from the reply's first word (case and punctuation ignored)."""
    words = re.findall(r"[a-z]+", reply.lower())
    if not words or words[0] not in ("yes", "no"):
        raise UnparsableReply(f"expected yes or no first, got {reply[:60]!r}")
    return words[0]


def parse_pair(reply: str) -> dict:
    """LLaVA's parse: the first line, commas as spaces, exactly two numbers, each in [1, 10]."""
    line = reply.strip().split("\n")[0].replace(",", " ")
    parts = line.split()
    try:
        if len(parts) != 2:
            raise ValueError
        ref, model = (float(p) for p in parts)
    except ValueError:
        raise UnparsableReply(f"expected two scores on the first line, got {line[:60]!r}") from None
    if not (1 <= ref <= 10 and 1 <= model <= 10):
        raise UnparsableReply(f"scores must be in 1..10, got {ref:g} {model:g}")
    return {"judge_relative_reference": ref, "judge_relative_model": model}


def reference_text(task: str, reference: dict) -> str:
    """The reference answer as text (Assistant 1 of the relative protocol)."""
    if task == "caption":
        return reference["captions"][0]
    if task == "recipe":
        steps = " ".join(f"{i}. {s}" for i, s in enumerate(reference.get("steps") or [], 1))
        return f"This is {reference['dish']}. Ingredients: {', '.join(reference['ingredients'])}. {steps}".strip()
    if task == "diagnosis":
        if reference["disease"].strip().lower() == "healthy":
            return f"This {reference['crop']} leaf is healthy; no treatment is needed."
        return (f"This {reference['crop']} leaf has {reference['disease']}. Treatment: "
                f"{'; '.join(reference['treatments']) or 'none listed'}.")
    if task == "pope":
        return "Yes." if reference["label"] == "yes" else "No."
    raise ValueError(f"unknown task {task!r}")


def match_target(task: str, reference: dict) -> str:
    """What the match protocol asks the answer to name."""
    if task == "recipe":
        return f"the dish {reference['dish']}"
    if task == "diagnosis":
        return f"the crop {reference['crop']} and the condition {reference['disease']}"
    if task == "pope":
        return f'"{reference["label"]}"'
    return ""
