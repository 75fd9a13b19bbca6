"""The house limits on size (developers' guide): no function over 60 lines, no module over 400 lines in workbench/."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400
# Over the limit when this test was written, in modules other work was rewriting at the same time (real models,
# generation, free-text scoring); shorten them there. The test fails when one of these gets short (take it off
# the list) and when any other function or module grows over the limit.
KNOWN_OVER: set[str] = set()  # all shortened


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_function_over_60_lines_and_no_module_over_400_lines():
    too_long, known = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {len(text.splitlines())} lines (module)")
        for fn in _functions(ast.parse(text, filename=str(path))):
            start = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
            n = fn.end_lineno - start + 1
            if n > MAX_FUNCTION_LINES and f"{rel.as_posix()}:{fn.name}" in KNOWN_OVER:
                known.add(f"{rel.as_posix()}:{fn.name}")
            elif n > MAX_FUNCTION_LINES:
                too_long.append(f"{rel}:{fn.lineno}: {fn.name} is {n} lines")
    assert not too_long, "over the size limits:\n" + "\n".join(too_long)
    assert known == KNOWN_OVER, f"now within the limits, take them off KNOWN_OVER: {sorted(KNOWN_OVER - known)}"


def test_the_checker_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    fn = next(_functions(ast.parse(f"def f():\n{body}\n")))
    assert fn.end_lineno - fn.lineno + 1 == MAX_FUNCTION_LINES + 1
