"""Check an eval set folder against the contract.

Exit 0 and print the item count per task when it is valid; otherwise print one line per problem,
`manifest.jsonl:LINE: what is wrong`, and exit 2. Checks: JSON, required fields and types, known task,
unique ids, image path inside the folder, image present and decodable by the decoder `generate` uses,
reference shape per task (a caption reference needs a word), vocabulary.json shape and coverage of caption
objects. Text that cannot be encoded (lone UTF-16 surrogates) is reported as a warning
(`manifest.jsonl:LINE: warning: ...`): scoring replaces it with U+FFFD, so the set stays valid.
"""

from __future__ import annotations

import sys

from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.evalsets.loader import eval_set_warnings


def add_arguments(parser):
    parser.add_argument("eval_set", metavar="EVAL_SET", help="eval set folder (holds manifest.jsonl)")
    parser.add_argument("--skip-images", action="store_true",
                        help="do not open the image files (faster on large sets)")


def run(args) -> int:
    from workbench.pipeline import eval_set_arg

    args.eval_set = eval_set_arg(args.eval_set)
    check_images = not args.skip_images
    problems = validate_eval_set(args.eval_set, check_images=check_images)
    for warning in eval_set_warnings(args.eval_set):
        print(warning)
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {args.eval_set}", file=sys.stderr)
        return 2
    eval_set = load_eval_set(args.eval_set, check_images=False)
    counts = eval_set.counts()
    print(f"{eval_set.name}: valid, {len(eval_set.items)} items")
    for task, n in sorted(counts.items()):
        print(f"  {task:<10} {n}")
    if not (eval_set.root / "card.md").is_file():
        print("note: no card.md (data card: source, licence, how built, counts)", file=sys.stderr)
    return 0
