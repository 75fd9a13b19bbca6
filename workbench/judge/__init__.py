"""LLM-as-judge for a run's answers, pinned and cached.

Public API::

    open_judge(spec) -> TransformersJudge | HttpJudge   # folder, .gguf file, or http://host:port/v1#model
    load_protocol(name) -> Protocol                      # "failure", "relative", "match" (templates/)
    JudgementCache(path)                                 # SQLite (WAL): judge identity x template hash x item x answer
    judge_run(run_dir, eval_set, judge, protocol, cache) -> summary   # writes run_dir/judge_<protocol>.json
    cohen_kappa(a, b) -> (kappa | None, reason | None)

Scores pick the judgements up (``workbench.judge.attach``): ``<task>/judge_<protocol>`` in scores.json, so
compare and report treat them like any other metric. Use a strong judge for real numbers; the tests use
SmolLM2-135M-Instruct, which only exercises the machinery.
"""

from workbench.judge.agreement import cohen_kappa
from workbench.judge.backends import HttpJudge, JudgeCallError, TransformersJudge, open_judge
from workbench.judge.cache import JudgementCache
from workbench.judge.protocols import PROTOCOLS, Protocol, load_protocol
from workbench.judge.run import judge_run

__all__ = ["HttpJudge", "JudgeCallError", "JudgementCache", "PROTOCOLS", "Protocol", "TransformersJudge",
           "cohen_kappa", "judge_run", "load_protocol", "open_judge"]
