"""Judgement cache: SQLite in WAL mode, one row per (judge identity, template hash, item, answer text).

A row holds the reply and either the parsed fields (``status`` "ok") or why the reply could not be read
(``status`` "failed"); a rerun with the same judge, template and answers reads every row back and makes
no call. Transport errors (server down, model crash) are not stored: they are retried next time.
Concurrent writers are safe (WAL + one transaction per row).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS judgements (
    key TEXT PRIMARY KEY, judge TEXT NOT NULL, template_hash TEXT NOT NULL, item_id TEXT NOT NULL,
    answer_sha256 TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    reply TEXT, fields TEXT, error TEXT, created TEXT DEFAULT CURRENT_TIMESTAMP)"""


def answer_sha(answer: str) -> str:
    return hashlib.sha256(answer.encode("utf-8")).hexdigest()


def cache_key(judge_key: str, template_hash: str, item_id: str, answer: str) -> str:
    """sha256 over the four parts (JSON-encoded, so no separator can collide)."""
    return hashlib.sha256(json.dumps([judge_key, template_hash, item_id, answer_sha(answer)]).encode()).hexdigest()


class JudgementCache:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)
        self.db.commit()

    def get(self, key: str) -> dict | None:
        row = self.db.execute("SELECT status, reply, fields, error FROM judgements WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return {"status": row[0], "reply": row[1], "fields": json.loads(row[2]) if row[2] else None, "error": row[3]}

    def put(self, key: str, *, judge: str, template_hash: str, item_id: str, answer: str, status: str,
            reply: str | None, fields: dict | None, error: str | None) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO judgements (key, judge, template_hash, item_id, answer_sha256, "
                            "status, reply, fields, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (key, judge, template_hash, item_id, answer_sha(answer), status, reply,
                             json.dumps(fields) if fields is not None else None, error))

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
