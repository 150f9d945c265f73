"""`livemon sentiment [FILE]`: score the user's own comments and print one JSON line each.

Input is plain text, one comment per line, or a CSV whose header has a `text` column
(detected from the first line). Output lines hold `text`, `label`, `score`, `lang`, `topic`
(complaint topic, for negative comments only) and `question` (intent and product, or null).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import IO

import click
import orjson

from monitor.questions import detect_question
from monitor.sentiment import score_batch
from monitor.topics import classify_topic

BATCH = 4096


def read_comments(stream: IO[str]) -> Iterator[str]:
    """Yield comments from plain lines or from the `text` column of a CSV; blank lines are skipped."""
    first = stream.readline()
    if not first:
        return
    header = next(csv.reader([first]), [])
    if "text" in (h.strip().lower() for h in header):
        column = [h.strip().lower() for h in header].index("text")
        for row in csv.reader(stream):
            if len(row) > column and row[column].strip():
                yield row[column]
        return
    for line in itertools.chain([first], stream):
        if line.strip():
            yield line.rstrip("\r\n")


def _emit(texts: list[str]) -> None:
    for text, verdict in zip(texts, score_batch(texts), strict=True):
        question = detect_question(text)
        click.echo(
            orjson.dumps(
                {
                    "text": text,
                    "label": verdict.label,
                    "score": verdict.score,
                    "lang": verdict.lang,
                    "topic": classify_topic(text) if verdict.label == "negative" else None,
                    "question": {"intent": question.intent, "product": question.product} if question else None,
                }
            ).decode()
        )


@click.command("sentiment")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"), default="-", required=False)
def sentiment(file: IO[str]) -> None:
    """Score comments from FILE (default: standard input) and print one JSON line per comment.

    FILE holds one comment per line, or is a CSV with a `text` column.
    """
    batch: list[str] = []
    for text in read_comments(file):
        batch.append(text)
        if len(batch) >= BATCH:
            _emit(batch)
            batch = []
    if batch:
        _emit(batch)


if __name__ == "__main__":  # usable before and besides the `livemon` group: python -m livemon.sentiment_command
    sentiment()
