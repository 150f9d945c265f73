"""`livemon sentiment`: lines or CSV in, one JSON object per comment out."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from livemon.sentiment_command import sentiment


def run(args: list[str], stdin: str | None = None) -> list[dict[str, object]]:
    result = CliRunner().invoke(sentiment, args, input=stdin)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines()]


def test_sentiment_command_reads_lines_from_stdin() -> None:
    rows = run([], "已拍\n\n质量太差了 起球\n3号多少钱？\nlove it\n")
    assert [r["text"] for r in rows] == ["已拍", "质量太差了 起球", "3号多少钱？", "love it"]
    assert [r["label"] for r in rows] == ["neutral", "negative", "neutral", "positive"]
    assert [r["lang"] for r in rows] == ["zh", "zh", "zh", "en"]
    assert rows[1]["topic"] == "quality_fake" and rows[0]["topic"] is None
    assert rows[2]["question"] == {"intent": "price", "product": "3"}
    assert rows[0]["question"] is None
    assert all(set(r) == {"text", "label", "score", "lang", "topic", "question"} for r in rows)


def test_sentiment_command_reads_the_text_column_of_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text('id,text,user\n1,"假货, 骗子",a\n2,link?,b\n', encoding="utf-8")
    rows = run([str(path)])
    assert [(r["text"], r["label"]) for r in rows] == [("假货, 骗子", "negative"), ("link?", "neutral")]
    assert rows[1]["question"] == {"intent": "link", "product": None}


def test_sentiment_command_empty_input_prints_nothing() -> None:
    assert run([], "") == []


def test_sentiment_command_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(sentiment, [str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert "nope.txt" in result.output
