"""Mutation testing of the core modules with mutmut, one module at a time (``make mutation``).

For each module below, a scratch copy of the package and the tests is made under ``.mutation/<name>/`` with
a ``setup.cfg`` that tells mutmut to mutate only that module and to run only that module's own test files
(mutmut then runs, per mutant, just the tests that executed the mutated function). The summary counts
each mutant once: killed (a test failed, or the tests hung past mutmut's timeout: a detected
mutant, as mutmut counts it), survived, no tests, other (suspicious, skipped, ...); mutants listed in
``tools/mutation_equivalents.txt`` (``<mutant name>  <one-line reason>``) are left out of the score.

    python tools/mutation.py                 # every module
    python tools/mutation.py bootstrap runs  # some of them
    python tools/mutation.py --summary       # re-read the last results, run nothing
    python tools/mutation.py render --tests tests/test_render_format.py   # a quicker, partial run

Writes ``.mutation/summary.md``; see docs/testing.md for how to read it. Source: mutmut 3
(https://github.com/boxed/mutmut), which switches mutants at run time in one forked process.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.txt"

# name -> (files mutated, the module's own test files)
MODULES = {
    "bootstrap": (["workbench/compare/bootstrap.py"], ["tests/test_compare_calibration.py"]),
    "compare": (["workbench/compare/statistics.py", "workbench/compare/loading.py"],
                ["tests/test_compare_statistics.py", "tests/test_compare_calibration.py",
                 "tests/test_compare_loading.py"]),
    "swaps": (["workbench/compare/swaps.py"], ["tests/test_compare_swaps.py"]),
    # tests/test_report.py (whole reports on scored runs, ~5-8 s a test) is left out: every mutant would run it;
    # test_render_context.py reaches the same functions in memory
    "render": (["workbench/report/render.py"],
               ["tests/test_render_format.py", "tests/test_render_sections.py", "tests/test_render_context.py"]),
    "evalsets": (["workbench/evalsets/loader.py", "workbench/evalsets/schema.py"],
                 ["tests/test_evalsets.py", "tests/test_evalset_checks.py", "tests/test_evalset_messages.py"]),
    "runs": (["workbench/runs.py"], ["tests/test_run_store.py"]),
    "generation": (["workbench/generation/batch.py", "workbench/generation/runner.py",
                    "workbench/generation/stopping.py", "workbench/generation/sampling.py"],
                   ["tests/test_generation.py", "tests/test_generation_edges.py", "tests/test_generation_units.py",
                    "tests/test_generation_runner.py"]),
    "scoring": (["workbench/scoring/failure.py", "workbench/scoring/diagnosis.py", "workbench/scoring/recipe.py",
                 "workbench/scoring/hallucination.py", "workbench/scoring/text.py", "workbench/scoring/aggregate.py",
                 "workbench/scoring/pope.py", "workbench/scoring/negation.py", "workbench/scoring/ratios.py",
                 "workbench/scoring/judged.py", "workbench/scoring/vocab.py"],
                ["tests/test_scoring_tasks.py", "tests/test_scoring_rules.py", "tests/test_scoring_secondary.py",
                 "tests/test_scoring_aggregate.py", "tests/test_scoring_vocab.py", "tests/test_pope.py",
                 "tests/test_free_text.py",
                 "tests/test_chair_reference.py"]),
}
STATUS = re.compile(r"^\s*(\S+__mutmut_\d+): (.+)$")


def equivalents() -> dict[str, str]:
    out = {}
    if EQUIVALENTS.exists():
        for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.strip().partition(" ")
                if not reason.strip():
                    sys.exit(f"{EQUIVALENTS}: {name} has no reason; give one line saying why it is equivalent")
                out[name] = reason.strip()
    return out


def prepare(name: str, tests: list[str] | None = None) -> Path:
    files, own_tests = MODULES[name]
    tests = tests or own_tests
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for sub in ("workbench", "tests"):
        shutil.rmtree(work / sub, ignore_errors=True)
        shutil.copytree(ROOT / sub, work / sub, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(work / "mutants", ignore_errors=True)
    cfg = ["[mutmut]", "source_paths = workbench", "only_mutate ="] + [f"    {f}" for f in files]
    cfg += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in tests]
    cfg += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -q"]
    (work / "setup.cfg").write_text("\n".join(cfg) + "\n", encoding="utf-8")
    (work / "pytest.ini").write_text("[pytest]\naddopts = -ra\nmarkers =\n    slow: slow\n", encoding="utf-8")
    return work


def results(work: Path) -> dict[str, str]:
    text = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                          capture_output=True, text=True, check=True).stdout
    return {m.group(1): m.group(2).strip() for m in map(STATUS.match, text.splitlines()) if m}


def _count(status: dict[str, str], eq: dict[str, str], survivors: list[str] | None) -> dict[str, int]:
    counts = {"mutants": len(status), "killed": 0, "timeout": 0, "survived": 0, "no tests": 0, "other": 0,
              "equivalent": 0}
    for mutant, s in status.items():
        if s in ("killed", "timeout"):     # a listed "equivalent" that a test detects is not one: counted as killed
            counts[s] += 1
            if mutant in eq and survivors is not None:
                survivors.append(f"{mutant}: listed as equivalent but {s} (its name may have shifted); "
                                 "remove it from the list")
        elif mutant in eq:
            counts["equivalent"] += 1
        else:
            counts[s if s in ("survived", "no tests") else "other"] += 1
            if survivors is not None:
                survivors.append(f"{mutant}: {s}")
    return counts


def _row(label: str, counts: dict[str, int]) -> str:
    scored = counts["mutants"] - counts["equivalent"]
    detected = counts["killed"] + counts["timeout"]
    score = f"{detected}/{scored} = {100 * detected / scored:.1f}%" if scored else "-"
    return (f"| {label} | {counts['mutants']} | {counts['killed']} | {counts['timeout']} | {counts['survived']} | "
            f"{counts['no tests']} | {counts['other']} | {counts['equivalent']} | {score} |")


def summarize(names: list[str]) -> str:
    """The summary table: one row per module, and one per mutated file where a module has several; then every
    mutant not detected."""
    eq = equivalents()
    lines = ["| module | mutants | killed | timeout | survived | no tests | other | equivalent | score |",
             "|---|---|---|---|---|---|---|---|---|"]
    survivors: list[str] = []
    for name in names:
        work = WORK / name
        if not (work / "mutants").exists():
            continue
        status = results(work)
        files = MODULES[name][0]
        stale = [m for m in eq if m not in status
                 and any(m.startswith(f.replace("/", ".")[:-3] + ".") for f in files)]
        lines.append(_row(name, _count(status, eq, survivors)))
        survivors += [f"{m}: listed as equivalent but no longer generated; remove it" for m in stale]
        if len(files) > 1:
            for f in files:
                prefix = f.replace("/", ".")[:-3] + "."
                part = {m: s for m, s in status.items() if m.startswith(prefix)}
                lines.append(_row(f"{name}: {Path(f).name}", _count(part, eq, None)))
    if len(lines) == 2:
        return (f"no mutation results under {WORK.relative_to(ROOT)}/ for {', '.join(names)}: nothing has been run "
                f"here yet; run `make mutation MODULES=\"{' '.join(names)}\"` first\n")
    text = "\n".join(lines) + ("\n\nNot killed, and list entries to check "
                                "(see `mutmut show <name>` in .mutation/<module>/):\n")
    text += "\n".join(survivors or ["(none)"]) + "\n"
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"some of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--summary", action="store_true", help="summarize the last results; run nothing")
    parser.add_argument("--tests", nargs="+", metavar="FILE",
                        help="run these test files instead of the module's own (a quicker, partial run)")
    args = parser.parse_args(argv)
    names = args.modules or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join(MODULES)}")
    if not args.summary:
        env = {**os.environ, "PYTHONPATH": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        for name in names:
            work = prepare(name, args.tests)
            print(f"== {name}: mutmut in {work.relative_to(ROOT)}", flush=True)
            subprocess.run([sys.executable, "-m", "mutmut", "run"], cwd=work, env=env, check=False)
    text = summarize(names)
    if not text.startswith("no mutation results"):
        WORK.mkdir(exist_ok=True)
        (WORK / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
