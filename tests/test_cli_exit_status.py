"""The exit statuses `workbench --help` promises are the ones the verbs return."""

import json

import pytest
from PIL import Image

from workbench.cli import EXIT_STATUS, main


def _promised(code: int) -> str:
    return next(line.split(None, 1)[1] for line in EXIT_STATUS.splitlines()[1:] if line.split()[0] == str(code))


def test_help_lists_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and EXIT_STATUS in capsys.readouterr().out


def test_each_promised_status_is_what_the_verbs_return(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:                   # usage error: argparse
        main(["score", "--eval-set", "x"])
    assert exc.value.code == 2 and "usage error" in _promised(2)
    assert main(["validate", str(tmp_path / "nowhere")]) == 2   # invalid eval set
    assert "invalid eval set" in _promised(2)
    es = tmp_path / "es"
    (es / "images").mkdir(parents=True)
    (es / "manifest.jsonl").write_text(json.dumps({"id": "a", "task": "caption", "image": "images/a.png",
                                                   "reference": {"captions": ["a cat"], "objects": ["cat"]}}) + "\n")
    capsys.readouterr()
    assert main(["validate", str(es)]) == 2                   # its one image is missing: invalid
    assert main(["score", "--eval-set", str(tmp_path / "nowhere"), "--predictions", str(tmp_path / "p.jsonl")]) == 2
    Image.new("RGB", (8, 8)).save(es / "images" / "a.png")   # now valid: a missing run is another error
    assert main(["validate", str(es)]) == 0
    capsys.readouterr()
    code = main(["report", str(tmp_path / "no-run"), "--eval-set", str(es), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: ") and "an error" in _promised(1)
