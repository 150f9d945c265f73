"""Post-live review (复盘): what sold, what didn't, when viewers left, how incidents went.

Pure like the rest of `monitor/`: `build_review` takes a finished session's events, alert
transitions and suggestion choices and returns a `Review`; `livemon.report` reads them from
Redis or a recording and renders HTML, JSON and CSV.
"""

from __future__ import annotations

from monitor.review.build import build_review, build_review_wire
from monitor.review.config import ReviewConfig
from monitor.review.model import Finding, Headline, ProductRow, Review, SuggestionChoice

__all__ = ["Finding", "Headline", "ProductRow", "Review", "ReviewConfig", "SuggestionChoice", "build_review",
           "build_review_wire"]
