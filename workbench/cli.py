"""The ``workbench`` command. Thin: every verb parses its arguments and calls the package.

Verbs live in ``workbench.commands.<verb>``; the list below is explicit (no import-time registry).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench.errors import WorkbenchError

# verb -> (module in workbench.commands, one-line help)
VERBS = {
    "validate": ("validate", "check an eval set; one line per problem, exit 2 if invalid"),
    "import": ("import_evalset", "make an eval set from COCO captions, a PlantVillage tree, a Food-101 tree or POPE questions"),
    "generate": ("generate", "run a model over an eval set into a resumable run folder"),
    "score": ("score", "score a run's predictions against an eval set -> scores.json"),
    "judge": ("judge", "judge runs' answers with a local or HTTP LLM (cached) -> <task>/judge_<protocol>"),
    "compare": ("compare", "paired comparison of two or more runs -> compare.json"),
    "report": ("report", "self-contained HTML ablation report from runs"),
    "gate": ("gate", "exit 1 if a run is significantly worse than a baseline on a chosen metric (for CI)"),
    "pipeline": ("pipeline", "the demo: run the notebooks with papermill -> reports/index.html"),
    "build-tiny": ("build_tiny", "rebuild the embedded tiny MiniGPT-4 in models/tiny/"),
    "seed-spread": ("seed_spread", "build the tiny model at several seed offsets -> models/tiny/seed_spread.json"),
}

EXIT_STATUS = """exit status:
  0    done (`gate`: no regression)
  1    an error, said in one line on stderr (`gate`: a significant regression)
  2    a usage error or an invalid eval set (nothing was run)
  130  interrupted (generate, pipeline and judge pick up where they stopped when rerun)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Evaluate MiniGPT-4-style models: eval set -> generate -> score -> compare -> report.",
        epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(f"workbench.commands.{module_name}")
        p = sub.add_parser(verb, help=help_text, description=(module.__doc__ or help_text).strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()
        return code
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `workbench validate ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; generate, pipeline and judge pick up where they stopped when the same command is "
              "rerun, other verbs start over", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
