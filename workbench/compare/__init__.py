"""Paired comparison of runs on one eval set: bootstrap CIs and permutation p-values per metric.

Public API::

    load_scored_runs(run_dirs, eval_set) -> (EvalSet, [ScoredRun])         # loading.py: one pass per ablation
    compare_loaded(es, runs, baseline=0, n_resamples=10000, seed=0) -> dict  # statistics.py: compare.json
    compare_runs(run_dirs, eval_set, ...) -> dict                            # both of the above
    write_compare(result, path)
"""

from workbench.compare.loading import ScoredRun, load_scored_runs
from workbench.compare.statistics import compare_loaded, compare_runs, write_compare

__all__ = ["ScoredRun", "compare_loaded", "compare_runs", "load_scored_runs", "write_compare"]
