"""Train the hashed character n-gram model and write monitor/data/sentiment_model.npz.

Deterministic: full-batch Adam from zero weights over a fixed split, so the same corpora
give the same file. Classes are weighted to balance, because a model that leans negative
by default would paint neutral chatter as complaints. The L2 strength of each language is
chosen by k-fold cross-validation inside the training split (folds by MD5 of the text's
key), never by looking at the dev or test split.

Usage: python bench/train_sentiment.py [--bits 18] [--steps 300] [--l2 L2]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpora
from monitor.sentiment import LANGS, MODEL_FILE, LinearModel, hashed_features, normalise

L2_GRID = (2e-7, 2e-6, 2e-5, 1e-4)
FOLDS = 4
LEARNING_RATE = 0.05

Sparse = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]


def take_rows(features: Sparse, keep: npt.NDArray[np.bool_]) -> Sparse:
    """The sparse rows where `keep` is true, renumbered from zero."""
    rows, cols, vals = features
    renumber = np.cumsum(keep) - 1
    mask = keep[rows]
    return renumber[rows[mask]], cols[mask], vals[mask]


def margins(features: Sparse, n: int, w: npt.NDArray[np.float64], b: float) -> npt.NDArray[np.float64]:
    """Logit per text."""
    rows, cols, vals = features
    # With weights bincount returns float64; numpy's stub says intp, so the no-op astype tells mypy.
    return np.bincount(rows, weights=w[cols] * vals, minlength=n).astype(np.float64, copy=False) + b


def train_one(features: Sparse, labels: npt.NDArray[np.float64], bits: int, steps: int, l2: float) -> tuple[npt.NDArray[np.float64], float]:
    """Fit one language's weights by full-batch Adam on class-balanced logistic loss."""
    rows, cols, vals = features
    n = len(labels)
    positive_share = labels.mean()
    sample_weight = np.where(labels == 1, 0.5 / positive_share, 0.5 / (1 - positive_share)) / n
    w = np.zeros(2**bits)
    b = 0.0
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        z = margins(features, n, w, b)
        err = (1.0 / (1.0 + np.exp(-z)) - labels) * sample_weight
        g_w = np.bincount(cols, weights=err[rows] * vals, minlength=w.size) + l2 * w
        g_b = err.sum()
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        scale = LEARNING_RATE * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        w -= scale * m_w / (np.sqrt(v_w) + eps)
        b -= scale * m_b / (np.sqrt(v_b) + eps)
    return w, b


def choose_l2(texts: list[str], features: Sparse, labels: npt.NDArray[np.float64], bits: int, steps: int) -> float:
    """The L2 strength from `L2_GRID` with the best k-fold accuracy inside the training split."""
    fold = np.array([int(hashlib.md5(corpora.key_of(t).encode()).hexdigest()[8:16], 16) % FOLDS for t in texts])
    best, best_acc = L2_GRID[0], -1.0
    for l2 in L2_GRID:
        correct = 0
        for k in range(FOLDS):
            held = fold == k
            w, b = train_one(take_rows(features, ~held), labels[~held], bits, steps, l2)
            z = margins(take_rows(features, held), int(held.sum()), w, b)
            correct += int(((z > 0) == (labels[held] == 1)).sum())
        acc = correct / len(labels)
        print(f"  L2 {l2:g}: {FOLDS}-fold accuracy {acc:.4f}", file=sys.stderr)
        if acc > best_acc:
            best, best_acc = l2, acc
    return best


def accuracy(model: LinearModel, lang: str, pairs: list[tuple[str, int]]) -> float:
    """Share of dev texts whose model polarity has the right sign."""
    texts = [normalise(t) for t, _ in pairs]
    polarity = model.polarity(texts, [lang] * len(texts))  # type: ignore[list-item]
    return float(np.mean((polarity > 0) == np.array([y for _, y in pairs], dtype=bool)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=18)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--l2", type=float, help="skip cross-validation and use this L2 strength for every language")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "monitor" / "data" / MODEL_FILE)
    args = parser.parse_args()
    sources = {"zh": corpora.chinese_reviews(), "en": corpora.english_tweets()}
    weights = np.zeros((len(LANGS), 2**args.bits), dtype=np.float32)
    bias = np.zeros(len(LANGS), dtype=np.float32)
    for index, lang in enumerate(LANGS):
        train = corpora.split(sources[lang], "train")
        texts = [t for t, _ in train]
        labels = np.array([y for _, y in train], dtype=np.float64)
        features = hashed_features([normalise(t) for t in texts], args.bits)
        l2 = args.l2 if args.l2 is not None else choose_l2(texts, features, labels, args.bits, args.steps)
        weights[index], bias[index] = train_one(features, labels, args.bits, args.steps, l2)
        print(f"{lang}: trained on {len(train)} texts with L2 {l2:g}", file=sys.stderr)
    model = LinearModel(weights, bias, args.bits)
    saved = LinearModel.load(model.dump())
    for lang in LANGS:
        print(f"{lang}: dev accuracy {accuracy(saved, lang, corpora.split(sources[lang], 'dev')):.4f}", file=sys.stderr)
    args.out.write_bytes(model.dump())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
