"""Paired comparison of runs on one eval set: bootstrap CIs and permutation p-values per metric.

Public API::

    compare_runs(run_dirs, eval_set, baseline=0, n_resamples=10000, seed=0) -> dict  # compare.json
    write_compare(result, path)
"""

from workbench.compare.compare import compare_runs, load_scored_runs, write_compare

__all__ = ["compare_runs", "load_scored_runs", "write_compare"]
