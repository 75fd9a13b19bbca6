"""The run store's defensive branches without a model (issue 20): torn and unterminated lines, widest
--limit on resume, refusals, bad records, shard files. Expected bytes are written out by hand."""

from __future__ import annotations

import json

import pytest

from workbench.errors import WorkbenchError
from workbench.run_record import RunRecord
from workbench.runs import RunStore, merge_if_complete, merge_shards, predictions_file, read_predictions


def read_run_info(run_dir) -> dict:
    """run.json as the one reader (RunRecord) gives it."""
    return RunRecord.load(run_dir).to_dict()

IDENTITY = {"model": {"sha": "m1"}, "generation": {"temperature": 1.0}, "seed": 0}


def rec(item_id, output="out"):
    return {"id": item_id, "output": output, "n_tokens": 3, "finish": "stop"}


def line(item_id, output="out"):
    return json.dumps(rec(item_id, output), ensure_ascii=False)


def open_store(run_dir, limit=None, identity=IDENTITY, shard=(0, 1)):
    store = RunStore(run_dir, shard=shard)
    store.open(identity, {"limit": limit})
    return store


def test_a_complete_last_line_without_newline_is_cut_on_resume_but_read_by_readers(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    path = out / "predictions.jsonl"
    path.write_text(line("a") + "\n" + line("b"), encoding="utf-8")     # b's newline never reached the disk
    assert set(read_predictions(out)) == {"a", "b"}                      # a reader takes what parses
    with open_store(out) as store:                                       # the writer cannot trust it: redo b
        assert set(store.done) == {"a"}
        assert path.read_text(encoding="utf-8") == line("a") + "\n"
        store.append_prediction(rec("b", "again"))
    assert path.read_text(encoding="utf-8") == line("a") + "\n" + line("b", "again") + "\n"


def test_a_torn_last_line_followed_by_blank_lines_is_cut(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    path = out / "predictions.jsonl"
    path.write_text(line("a") + "\n" + '{"id": "b", "outp' + "\n\n  \n", encoding="utf-8")
    assert set(read_predictions(out)) == {"a"}
    with open_store(out) as store:
        assert set(store.done) == {"a"}
    assert path.read_text(encoding="utf-8") == line("a") + "\n"


def test_blank_lines_between_records_are_skipped(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    (out / "predictions.jsonl").write_text(line("a") + "\n\n" + line("b") + "\n", encoding="utf-8")
    with open_store(out) as store:
        assert set(store.done) == {"a", "b"}


@pytest.mark.parametrize("bad", ["{garbage", "[1, 2]", '"text"'])
def test_a_bad_line_before_the_end_names_file_and_line(tmp_path, bad):
    out = tmp_path / "run"
    open_store(out).close()
    path = out / "predictions.jsonl"
    text = line("a") + "\n" + bad + "\n" + line("c") + "\n"
    path.write_text(text, encoding="utf-8")
    what = "invalid JSON" if bad.startswith("{") else "not a JSON object"   # not JSON / JSON but not an object
    with pytest.raises(WorkbenchError, match=rf"predictions\.jsonl:2: {what} \(.+\); this line was not "
                                             r"written by workbench: fix or delete it, then rerun$"):
        open_store(out)
    with pytest.raises(WorkbenchError, match=rf"predictions\.jsonl:2: {what}"):
        read_predictions(out)
    assert path.read_text(encoding="utf-8") == text                      # nothing cut, nothing lost


def test_a_json_line_that_is_not_an_object_says_so(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    (out / "predictions.jsonl").write_text("[1, 2]\n" + line("a") + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"predictions\.jsonl:1: not a JSON object \(not a JSON object\);"):
        open_store(out)


@pytest.mark.parametrize("first,second,widest", [(3, 7, 7), (7, 3, 7), (3, None, None), (None, 3, None),
                                                 (None, None, None), (4, 4, 4)])
def test_resuming_with_another_limit_records_the_widest(tmp_path, first, second, widest):
    out = tmp_path / "run"
    open_store(out, limit=first).close()
    assert read_run_info(out)["limit"] == first
    with open_store(out, limit=second) as store:
        assert store.resumed
    info = read_run_info(out)
    assert info["limit"] == widest
    assert len(info["resumed_at"]) == 1 and info["ended_at"] is None


def test_resume_with_other_settings_names_each_difference(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    changed = {"model": {"sha": "m1"}, "generation": {"temperature": 0.5}, "seed": 1}
    with pytest.raises(WorkbenchError, match=r"generation\.temperature: run has 1\.0, now 0\.5; seed: run has 0, now 1"):
        open_store(out, identity=changed)


def test_refusals_of_folders_not_made_by_generate(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(WorkbenchError, match="exists and is not a folder"):
        open_store(not_a_dir)
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    (orphan / "predictions.jsonl").write_text(line("a") + "\n")
    with pytest.raises(WorkbenchError, match="has predictions but no run.json"):
        open_store(orphan)
    with pytest.raises(WorkbenchError, match=r"predictions\.jsonl: no predictions file"):
        read_predictions(tmp_path / "empty")
    with pytest.raises(WorkbenchError, match="run.json: not found"):
        read_run_info(tmp_path / "empty")
    (tmp_path / "badjson").mkdir()
    (tmp_path / "badjson" / "run.json").write_text("{")
    with pytest.raises(WorkbenchError, match="run.json: not valid JSON"):
        read_run_info(tmp_path / "badjson")


@pytest.mark.parametrize("shard", [(1, 1), (-1, 2), (0, 0)])
def test_shard_must_be_index_and_count(tmp_path, shard):
    with pytest.raises(WorkbenchError, match="shard must be"):
        RunStore(tmp_path / "run", shard=shard)


def test_bad_and_duplicate_records_are_programming_errors(tmp_path):
    with open_store(tmp_path / "run") as store:
        for bad in ({"id": "a", "output": "o", "n_tokens": 1}, {**rec("a"), "finish": "eos"}):
            with pytest.raises(ValueError, match="bad prediction record"):
                store.append_prediction(bad)
        store.append_prediction({**rec("a"), "extra": 1})
        with pytest.raises(ValueError, match="already written"):
            store.append_prediction(rec("a"))
        store.append_error("b", "boom")
        assert store.n_errors == 1
        info = store.finish({"n_items": 2})
    assert json.loads((tmp_path / "run" / "predictions.jsonl").read_text()) == rec("a")   # known keys only
    error = json.loads((tmp_path / "run" / "errors.jsonl").read_text())
    assert (error["id"], error["error"]) == ("b", "boom")
    assert info.shards == {"0/1": {"n_items": 2}} and info.ended_at is not None
    assert read_run_info(tmp_path / "run")["shards"] == {"0/1": {"n_items": 2}}


def test_shard_files_are_read_before_the_merge_and_merged_in_eval_set_order(tmp_path):
    out = tmp_path / "run"
    order = ["a", "b", "c", "d"]
    for index in range(2):
        with open_store(out, shard=(index, 2)) as store:
            for item in order[index::2]:
                if item != "d":
                    store.append_prediction(rec(item, item.upper()))
    assert (out / "predictions.part-000-of-002.jsonl").exists()
    assert {k: v["output"] for k, v in read_predictions(out).items()} == {"a": "A", "b": "B", "c": "C"}
    assert merge_if_complete(out, 2, order) is None                   # d is missing from shard 1
    with open_store(out, shard=(1, 2)) as store:
        store.append_prediction(rec("d", "D"))
    merged = merge_if_complete(out, 2, order)
    assert merged == out / "predictions.jsonl"
    assert merged.read_text() == "".join(line(x, x.upper()) + "\n" for x in order)
    assert merge_shards(out, 2, ["d", "a"]).read_text() == line("d", "D") + "\n" + line("a", "A") + "\n"


def test_non_ascii_outputs_are_written_as_utf8_text(tmp_path):
    out = tmp_path / "run"
    with open_store(out) as store:
        store.append_prediction(rec("a", "crêpe ☕"))
        assert store.done["a"]["output"] == "crêpe ☕"
    assert (out / "predictions.jsonl").read_text(encoding="utf-8") == \
        '{"id": "a", "output": "crêpe ☕", "n_tokens": 3, "finish": "stop"}\n'
    with open_store(tmp_path / "sharded", shard=(0, 1)) as store:
        store.append_prediction(rec("b", "é"))
    merged = merge_shards(tmp_path / "sharded", 1, ["b"])
    assert merged.read_bytes() == ('{"id": "b", "output": "é", "n_tokens": 3, "finish": "stop"}\n').encode("utf-8")


def test_errors_are_counted_and_timed(tmp_path):
    with open_store(tmp_path / "run") as store:
        store.append_error("a", "first")
        store.append_error("b", "second")
        assert store.n_errors == 2
    records = [json.loads(x) for x in (tmp_path / "run" / "errors.jsonl").read_text().splitlines()]
    assert [sorted(r) for r in records] == [["error", "id", "time"]] * 2
    assert all(r["time"].endswith("+00:00") and r["time"][:4].isdigit() for r in records)


def test_merging_reads_shard_files_without_changing_them(tmp_path):
    out = tmp_path / "run"
    for index in range(2):
        open_store(out, shard=(index, 2)).close()
    shard0 = out / "predictions.part-000-of-002.jsonl"
    shard1 = out / "predictions.part-001-of-002.jsonl"
    shard0.write_text(line("a") + "\n" + line("c"), encoding="utf-8")     # complete, newline not (yet) written
    shard1.write_text(line("b") + "\n", encoding="utf-8")
    before = shard0.read_bytes()
    assert merge_if_complete(out, 2, ["a", "b", "c"]) == out / "predictions.jsonl"
    assert shard0.read_bytes() == before
    assert merge_shards(out, 2, ["a", "b", "c"]).read_text() == "".join(line(x) + "\n" for x in "abc")
    assert shard0.read_bytes() == before


def test_resume_refusal_names_added_removed_and_retyped_settings(tmp_path):
    out = tmp_path / "run"
    open_store(out, identity={"model": "m", "seed": 0}).close()
    with pytest.raises(WorkbenchError, match=r'model: run has "m", now \{"sha": "x"\}; seed: run has 0, now null; '
                                             r'template: run has null, now "t"'):
        open_store(out, identity={"model": {"sha": "x"}, "template": "t"})


def test_a_second_writer_is_refused_with_the_holder_named_and_the_lock_is_reusable(tmp_path):
    import os
    import stat

    out = tmp_path / "run"
    first = open_store(out)
    try:
        with pytest.raises(WorkbenchError, match=rf"{out}: this run is being written by pid {os.getpid()} on \S+ "
                                                 r"since \d{4}-.*; wait for it to finish \(rerunning then resumes\) "
                                                 r"or choose another --out folder$"):
            open_store(out)
    finally:
        first.close()
    first.close()                                                  # closing twice is harmless
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((out / ".lock").stat().st_mode) == 0o644 & ~umask
    with open_store(out) as store:                                # released: the next writer gets it
        store.append_prediction(rec("a"))
    (out / ".lock").write_text("")                                 # a holder that wrote nothing yet
    holder = open_store(out)
    (out / ".lock").write_text("")
    try:
        with pytest.raises(WorkbenchError, match="being written by another process; wait"):
            open_store(out)
    finally:
        holder.close()


ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$"


def test_run_json_of_a_new_and_of_a_resumed_run(tmp_path):
    import re

    out = tmp_path / "a" / "b" / "run"                                # parent folders are made
    store = open_store(out, limit=5)
    assert store.resumed is False
    info = read_run_info(out)
    assert store.record.to_dict() == info
    assert json.loads((out / "run.json").read_text(encoding="utf-8")) == info   # what is on disk
    assert (info["schema"], info["identity"], info["limit"], info["ended_at"], info["resumed_at"]) == \
        (1, IDENTITY, 5, None, [])
    assert re.match(ISO, info["started_at"])
    store.append_prediction(rec("a"))
    store.finish({"n_items": 1})
    store.close()
    assert read_run_info(out)["ended_at"] is not None
    with open_store(out, limit=5) as again:
        assert again.resumed is True and again.done == {"a": rec("a")}
    info = read_run_info(out)
    assert info["ended_at"] is None and len(info["resumed_at"]) == 1 and re.match(ISO, info["resumed_at"][0])
    assert (out / ".run.json.lock").is_file() and (out / ".lock").is_file()


def test_a_torn_last_error_line_is_cut_on_resume(tmp_path):
    out = tmp_path / "run"
    with open_store(out) as store:
        store.append_error("a", "boom")
    path = out / "errors.jsonl"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + '{"id": "b", "err', encoding="utf-8")
    with open_store(out) as store:
        store.append_error("c", "ü")
    lines_ = path.read_text(encoding="utf-8").splitlines()
    assert lines_[0] == good.strip() and [json.loads(x)["id"] for x in lines_] == ["a", "c"]
    assert '"error": "ü"' in lines_[1]


def test_refusal_messages_end_with_the_fix(tmp_path):
    out = tmp_path / "run"
    open_store(out).close()
    with pytest.raises(WorkbenchError, match=r"; rerun with the original settings to resume it, or use a new --out folder$"):
        open_store(out, identity={"seed": 1})
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    (orphan / "predictions.part-000-of-002.jsonl").write_text(line("a") + "\n")
    with pytest.raises(WorkbenchError, match=rf"^{orphan}: has predictions but no run.json; it was not made by "
                                             r"'workbench generate' \(or run.json was deleted\): use a new --out folder$"):
        open_store(orphan)


def test_a_shard_writes_its_own_errors_file_and_the_lock_files_are_0644(tmp_path):
    import os
    import stat

    out = tmp_path / "run"
    with open_store(out, shard=(1, 2)) as store:
        store.append_error("b", "boom")
    assert [p.name for p in sorted(out.glob("errors*.jsonl"))] == ["errors.part-001-of-002.jsonl"]
    umask = os.umask(0)
    os.umask(umask)
    for name in (".lock.part-001-of-002", ".run.json.lock"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644 & ~umask, name


def test_replace_moves_the_old_lines_to_replaced_jsonl_and_keeps_the_rest(tmp_path, monkeypatch):
    import workbench.runs as runs

    monkeypatch.setattr(runs, "now", lambda: "2026-11-30T12:00:00+00:00")
    out = tmp_path / "run"
    with open_store(out) as store:
        for item_id in ("a", "b", "c"):
            store.append_prediction(rec(item_id, f"old {item_id}"))
        store.replace([], "nothing")                            # no ids: nothing is touched
        assert not (out / "replaced.jsonl").exists()
        store.replace(["c", "a"], "image changed")
        assert set(store.done) == {"b"}
        store.append_prediction(rec("a", "new a"))              # the replaced item can be written again
    expected = line("b", "old b") + "\n" + line("a", "new a") + "\n"
    assert (out / "predictions.jsonl").read_text(encoding="utf-8") == expected
    moved = [json.loads(x) for x in (out / "replaced.jsonl").read_text(encoding="utf-8").splitlines()]
    assert moved == [{"replaced": rec(i, f"old {i}"), "reason": "image changed", "time": "2026-11-30T12:00:00+00:00"}
                     for i in ("c", "a")]


def test_replace_in_a_shard_removes_a_merged_file_and_only_then(tmp_path):
    out = tmp_path / "run"
    with open_store(out, shard=(0, 2)) as store:
        store.append_prediction(rec("a"))
        (out / "predictions.jsonl").write_text(line("a") + "\n", encoding="utf-8")   # merged by an earlier run
        store.replace(["a"], "image changed")
        assert not (out / "predictions.jsonl").exists()
        assert predictions_file(out, (0, 2)).read_text(encoding="utf-8") == ""   # the shard's own file
    single = tmp_path / "single"
    with open_store(single) as store:
        store.append_prediction(rec("a"))
        store.append_prediction(rec("b"))
        store.replace(["a"], "image changed")                    # unsharded: predictions.jsonl is the shard file
    assert (single / "predictions.jsonl").read_text(encoding="utf-8") == line("b") + "\n"


@pytest.fixture
def ascii_locale():
    """An ASCII locale set in this process (as under LANG=C): files opened without an encoding would be ASCII."""
    import locale

    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    yield
    locale.setlocale(locale.LC_CTYPE, saved)


def test_non_ascii_text_is_written_as_utf8_whatever_the_locale(tmp_path, ascii_locale, monkeypatch):
    import workbench.runs as runs

    monkeypatch.setattr(runs, "now", lambda: "T")
    out = tmp_path / "run"
    with open_store(out) as store:
        for item_id, text in (("a", "caf\u00e9 \u2615"), ("b", "cr\u00eapes"), ("c", "na\u00efve")):
            store.append_prediction(rec(item_id, text))
        store.append_error("d", "image d\u00e9j\u00e0 vu")
        store.replace(["c"], "image chang\u00e9e")
        store.append_prediction(rec("e", "\u00e9"))              # the file reopened after the replacement
        store.replace(["e"], "again")
    # raw UTF-8, never \u escapes, one record per line (the kept lines are joined by nothing but newlines)
    assert (out / "predictions.jsonl").read_bytes() == (
        '{"id": "a", "output": "caf\u00e9 \u2615", "n_tokens": 3, "finish": "stop"}\n'
        '{"id": "b", "output": "cr\u00eapes", "n_tokens": 3, "finish": "stop"}\n').encode("utf-8")
    assert json.loads((out / "errors.jsonl").read_bytes().decode("utf-8"))["error"] == "image d\u00e9j\u00e0 vu"
    assert "image chang\u00e9e" in (out / "replaced.jsonl").read_bytes().decode("utf-8")
    with open_store(out) as store:                                  # reopened under the same locale
        store.append_prediction(rec("c", "\u00e9t\u00e9"))
    tail = '"output": "\u00e9t\u00e9", "n_tokens": 3, "finish": "stop"}\n'.encode("utf-8")
    assert (out / "predictions.jsonl").read_bytes().endswith(tail)


def test_merged_predictions_keep_non_ascii_text_raw(tmp_path):
    out = tmp_path / "run"
    for shard, item_id in (((0, 2), "a"), ((1, 2), "b")):
        with open_store(out, shard=shard) as store:
            store.append_prediction(rec(item_id, f"caf\u00e9 {item_id}"))
    merge_shards(out, 2, ["a", "b"])
    assert (out / "predictions.jsonl").read_bytes() == (line("a", "caf\u00e9 a") + "\n" + line("b", "caf\u00e9 b")
                                                         + "\n").encode("utf-8")
    assert b"\\u00e9" not in (out / "predictions.jsonl").read_bytes()


def test_the_holder_is_read_as_utf8_and_undecodable_bytes_are_replaced(tmp_path, ascii_locale):
    out = tmp_path / "run"
    holder = open_store(out)
    try:
        (out / ".lock").write_bytes("pid 7 on h\u00f4te\n".encode("utf-8"))
        with pytest.raises(WorkbenchError, match="being written by pid 7 on h\u00f4te; wait"):
            open_store(out)
        (out / ".lock").write_bytes(b"pid 8 on \xff\xfe\n")
        with pytest.raises(WorkbenchError, match="being written by pid 8 on \ufffd\ufffd; wait"):
            open_store(out)
    finally:
        holder.close()


def test_closing_closes_the_files_and_a_store_never_opened_closes_harmlessly(tmp_path):
    RunStore(tmp_path / "never").close()
    store = open_store(tmp_path / "run")
    handles = (store._pred_handle, store._err_handle)
    store.close()
    assert all(h.closed for h in handles)
