"""Open buyer questions of one session, grouped by intent and product, and their ranking.

Forty viewers asking 3号多少钱 are one group with forty askers, not forty questions: the
snapshot lists open groups largest first, the suggestions read the product with the most
viewers waiting, and pinning the product (or a click on the wallboard) answers its groups.
`CommentTracker` files each detected question here (`monitor.questions` detects them).
"""

from __future__ import annotations

from typing import Any

MAX_ASKERS = 500  # distinct askers remembered per question group; beyond this the count is "500+"


class QuestionGroup:
    """Unanswered questions of one intent about one product, and the distinct viewers asking them.

    `askers` is what tells many people waiting apart from one viewer asking again.
    """

    __slots__ = ("answered_at", "askers", "count", "examples", "intent", "key", "oldest", "product")

    def __init__(self, key: str, intent: str, product: str | None) -> None:
        self.key = key
        self.intent = intent
        self.product = product
        self.count = 0
        self.oldest = 0.0
        self.examples: list[dict[str, str]] = []
        self.answered_at: float | None = None
        self.askers: set[str] = set()

    def to_list(self) -> list[Any]:
        return [self.key, self.intent, self.product, self.count, self.oldest, self.examples, self.answered_at,
                sorted(self.askers)]

    @classmethod
    def from_list(cls, raw: list[Any]) -> QuestionGroup:
        group = cls(raw[0], raw[1], raw[2])
        group.count, group.oldest, group.examples, group.answered_at = int(raw[3]), float(raw[4]), list(raw[5]), raw[6]
        group.askers = set(raw[7]) if len(raw) > 7 else set()  # absent in checkpoints before askers were kept
        return group


class QuestionBook:
    """The question groups of one session, and what names their products (run of show, pinned product).

    Args:
        examples: example comments kept per group.
        max_groups: groups kept; `prune` drops answered groups first, then the stalest open ones.
    """

    def __init__(self, examples: int, max_groups: int) -> None:
        self.examples = examples
        self.max_groups = max_groups
        self.groups: dict[str, QuestionGroup] = {}
        self.products: list[str] = []  # the run of show's planned product ids, in order
        self.pinned: str | None = None

    def _product_key(self, product: str | None) -> str | None:
        """Map a product index ("3") to the planned product id when the run of show is known."""
        if product is not None and product.isdigit() and 1 <= int(product) <= len(self.products):
            return self.products[int(product) - 1]
        return product if product is not None else self.pinned

    def ask(self, comment_id: str, user: str, text: str, intent: str, product: str | None, now: float) -> None:
        """File one question; a group answered before opens again with this as its first question."""
        key_product = self._product_key(product)
        key = f"{intent}:{key_product or '-'}"
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = QuestionGroup(key, intent, key_product)
        if group.answered_at is not None or group.count == 0:
            group.count, group.oldest, group.examples, group.answered_at = 0, now, [], None
            group.askers = set()
        group.count += 1
        if len(group.askers) < MAX_ASKERS:
            group.askers.add(user)
        group.oldest = min(group.oldest, now)
        if len(group.examples) < self.examples:
            group.examples.append({"id": comment_id, "text": text})

    def on_pin(self, product: str, now: float) -> None:
        """The host pinned `product`: its question groups (by id or by run-of-show index) are answered.

        Groups filed under no product were asked before anything was pinned ("how much?" while
        the show warms up); no later pin names them, so the first pitch answers them.
        """
        self.pinned = product
        names: set[str | None] = {product, None}
        if product in self.products:
            names.add(str(self.products.index(product) + 1))
        for group in self.groups.values():
            if group.product in names and group.answered_at is None and group.oldest <= now:
                group.answered_at = now

    def mark_answered(self, group: str, now: float) -> bool:
        """Mark one open group answered (from the wallboard); False if there is no such open group."""
        found = self.groups.get(group)
        if found is None or found.answered_at is not None or found.count == 0:
            return False
        found.answered_at = now
        return True

    def most_waiting(self, now: float) -> tuple[int, float]:
        """Return (distinct askers, oldest age in s) of the product with the most viewers waiting.

        Open groups of one product are joined across intents: a crowd asking about #3 asks its
        price, its stock and for its link, and is one crowd.
        """
        askers: dict[str | None, set[str]] = {}
        oldest: dict[str | None, float] = {}
        for g in self.groups.values():
            if g.answered_at is None and g.count > 0:
                askers.setdefault(g.product, set()).update(g.askers)
                oldest[g.product] = min(oldest.get(g.product, g.oldest), g.oldest)
        if not askers:
            return 0, 0.0
        top = max(askers, key=lambda p: (len(askers[p]), -oldest[p]))
        return len(askers[top]), round(max(0.0, now - oldest[top]), 1)

    def open_questions(self, now: float) -> list[dict[str, Any]]:
        """The summary's `open_questions`: open groups, most questions first, then oldest first."""
        open_groups = sorted(
            (g for g in self.groups.values() if g.answered_at is None and g.count > 0),
            key=lambda g: (-g.count, g.oldest),
        )
        return [
            {
                "group": g.key,
                "intent": g.intent,
                "product": g.product,
                "count": g.count,
                "askers": len(g.askers),
                "oldest_age_s": round(max(0.0, now - g.oldest), 1),
                "examples": list(g.examples),
            }
            for g in open_groups
        ]

    def prune(self) -> None:
        """Keep at most `max_groups` groups: drop answered groups first, then the stalest open ones."""
        if len(self.groups) > self.max_groups:
            ranked = sorted(self.groups.values(), key=lambda g: (g.answered_at is None, g.oldest), reverse=True)
            self.groups = {g.key: g for g in ranked[: self.max_groups]}

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state; its keys are part of the comment tracker's checkpoint."""
        return {"groups": [g.to_list() for g in self.groups.values()], "products": self.products, "pinned": self.pinned}

    @classmethod
    def from_state(cls, examples: int, max_groups: int, data: dict[str, Any]) -> QuestionBook:
        """Rebuild from `to_state` output (or the comment tracker checkpoint holding its keys)."""
        book = cls(examples, max_groups)
        book.groups = {raw[0]: QuestionGroup.from_list(raw) for raw in data["groups"]}
        book.products = list(data["products"])
        book.pinned = data["pinned"]
        return book
