"""Coordinated posting (raids, 控评) and self-repeating accounts.

Twenty accounts posting 骗子 within seconds are one voice, not twenty complaints, and a wall
of 好好好 from a hired crowd must not drown real complaints. Comments are compared by their
fingerprint (`monitor.text_fingerprint`: 骗子骗子!!, 骗子 and 骗子2 are one text). Flagged
comments are reported and kept out of sentiment rates.

Answers to a host's call (扣1, 1111, 已拍) and buyer questions are exempt: many people
asking 多少钱 at once is demand, not a raid (PLATFORMS.md §5).

A raid is `raid_min_accounts` accounts posting one fingerprint within `raid_window_s`, and
either that text dominates the chat (`raid_min_share`) or its accounts keep posting it: at
least `raid_min_repeaters` of them, and `raid_repeater_share` of them, posted it twice or more
in the window. The share alone missed raids in busy rooms (20 raiders are 5 % of a large
room's chat); repetition is what a crew pasting one line does. A crowd typing the same short
complaint or question has a few repeaters by chance once it is large, but not a tenth of it.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from monitor.text_fingerprint import CALL_ANSWERS, fingerprint

RAID = "raid"
REPEAT = "repeat"
Post = tuple[float, str, str, str | None]  # (ts, fingerprint, comment_id, user) of one checked comment


@dataclass(frozen=True, slots=True)
class SpamConfig:
    """How many accounts within how long make a raid, and how many repeats make a spammer."""

    raid_window_s: float = 30.0
    raid_min_accounts: int = 5
    # In a busy room "好看" from five people in 30 s is normal; a raid also dominates the chat.
    raid_min_share: float = 0.2
    raid_min_repeaters: int = 2  # accounts that posted the text twice or more in the window
    raid_repeater_share: float = 0.1  # ... and at least this share of its accounts
    repeat_window_s: float = 60.0
    repeat_min: int = 3

    def __post_init__(self) -> None:
        if self.raid_window_s <= 0 or self.repeat_window_s <= 0:
            raise ValueError(
                f"raid_window_s/repeat_window_s: expected > 0, got {self.raid_window_s}/{self.repeat_window_s}"
            )
        if self.raid_min_accounts < 2:
            raise ValueError(f"raid_min_accounts: expected >= 2, got {self.raid_min_accounts}")
        if not 0.0 <= self.raid_min_share <= 1.0:
            raise ValueError(f"raid_min_share: expected between 0 and 1, got {self.raid_min_share}")
        if self.raid_min_repeaters < 1:
            raise ValueError(f"raid_min_repeaters: expected >= 1, got {self.raid_min_repeaters}")
        if not 0.0 <= self.raid_repeater_share <= 1.0:
            raise ValueError(f"raid_repeater_share: expected between 0 and 1, got {self.raid_repeater_share}")
        if self.repeat_min < 2:
            raise ValueError(f"repeat_min: expected >= 2, got {self.repeat_min}")


@dataclass(frozen=True, slots=True)
class Raid:
    """One fingerprint posted by many accounts: a sample text, the accounts in window and since when."""

    fingerprint: str
    text: str
    accounts: int
    since: float
    last: float


class SpamDetector:
    """Sliding windows per fingerprint and per account; memory is bounded by the windows.

    Each post is one tuple `(ts, fingerprint, comment_id, user)`, queued in arrival order once
    per window (`text_expiry`, `user_expiry`) and kept in the deques of its fingerprint and
    account. A prune pops each queue from the front while its posts are out of their window,
    each from the front of its deques, so it visits only what expires (scanning every
    fingerprint once per second cost ~40 µs per comment in a busy room whose comments all
    differ). A post that arrives out of order waits behind the posts that arrived before it,
    so it may count up to one window longer: memory and a slightly longer memory of that
    post, never a missed one. The windows are thus the newest posts by arrival, and a
    checkpoint is the log of held posts (`posts`) and the length of each queue.
    """

    def __init__(self, config: SpamConfig | None = None) -> None:
        self.config = config or SpamConfig()
        self.by_text: dict[str, deque[Post]] = {}
        # Tuples, not deques: an account posts a few times a minute, and a tuple of tuples of
        # strings and floats is left out of the garbage collector's passes (a deque never is).
        self.by_user: dict[str, tuple[Post, ...]] = {}
        self.posts: deque[Post] = deque()  # every post in `by_text` or `by_user`, by arrival
        self.flagged: dict[str, float] = {}
        self.raids: dict[str, Raid] = {}
        self.per_second: dict[int, int] = {}  # all comments checked, for the share of the window
        self.in_window = 0  # sum of `per_second`
        self.accounts: dict[str, dict[str, int]] = {}  # fingerprint -> posts per account in the raid window
        self.repeaters: Counter[str] = Counter()  # fingerprint -> accounts with >= 2 posts of it in the window
        self.user_texts: dict[str, dict[str, int]] = {}  # account -> its posts per fingerprint in `by_user`
        self.text_expiry: deque[Post] = deque()  # `by_text` posts, by arrival
        self.user_expiry: deque[Post] = deque()  # `by_user` posts, by arrival
        self.pruned_second = -1
        self._longest_s = max(self.config.raid_window_s, self.config.repeat_window_s)
        self.behind_since: int | None = None  # first of consecutive comments far behind `pruned_second`

    def check(self, comment_id: str, user: str | None, text: str, now: float) -> list[tuple[str, str]]:
        """Record one comment at event time `now` (seconds).

        Returns:
            `(comment_id, reason)` for every comment flagged by this one: the comment itself and
            earlier comments of the same raid or repeat run that were not flagged yet.
        """
        second = int(now)
        if second > self.pruned_second:  # once per event-time second keeps a busy room linear
            self._prune(now)
            self.pruned_second, self.behind_since = second, None
        elif second >= self.pruned_second - self._longest_s:
            self.behind_since = None
        elif self.behind_since is None:
            self.behind_since = second  # far behind: one late comment, or ...
        elif second - self.behind_since >= self._longest_s:
            # ... a window's worth of them: the last pruned second came from a future-dated
            # comment (a producer's wrong clock), and the windows would not slide until then.
            self._prune(now)
            self.pruned_second, self.behind_since = second, None
        self.per_second[second] = self.per_second.get(second, 0) + 1
        self.in_window += 1
        fp = fingerprint(text)
        if not fp or fp in CALL_ANSWERS:
            return []
        account = user or comment_id
        post = (now, fp, comment_id, user)
        self.posts.append(post)
        self.text_expiry.append(post)
        newly: list[tuple[str, str]] = []
        # get, not setdefault, and dicts, not Counters: Counter() and its __missing__ are Python code
        same_text, accounts = self.by_text.get(fp), self.accounts.get(fp)
        if same_text is None or accounts is None:
            same_text, accounts = self.by_text[fp], self.accounts[fp] = deque(), {}
        same_text.append(post)
        accounts[account] = posted = accounts.get(account, 0) + 1
        if posted == 2:
            self.repeaters[fp] += 1
        if len(accounts) >= self.config.raid_min_accounts and (
            len(same_text) >= self.config.raid_min_share * self.in_window
            or self.repeaters[fp] >= max(self.config.raid_min_repeaters, self.config.raid_repeater_share * len(accounts))
        ):
            previous = self.raids.get(fp)
            if previous is None:
                # The raid starts now: flag the whole run in the window, earlier posts included.
                self.raids[fp] = Raid(fp, text, len(accounts), same_text[0][0], now)
                newly.extend(self._flag(cid, RAID, ts) for ts, _, cid, _ in same_text if cid not in self.flagged)
            else:
                self.raids[fp] = Raid(fp, previous.text, len(accounts), previous.since, max(previous.last, now))
                if comment_id not in self.flagged:
                    newly.append(self._flag(comment_id, RAID, now))
        if user is not None:
            own = self.by_user[user] = self.by_user.get(user, ()) + (post,)
            texts = self.user_texts.get(user)
            if texts is None:
                texts = self.user_texts[user] = {}
            self.user_expiry.append(post)
            texts[fp] = repeated = texts.get(fp, 0) + 1
            if repeated == self.config.repeat_min:  # the run is long enough: flag it all, once
                newly.extend(self._flag(cid, REPEAT, ts) for ts, f, cid, _ in own if f == fp and cid not in self.flagged)
            elif repeated > self.config.repeat_min and comment_id not in self.flagged:
                newly.append(self._flag(comment_id, REPEAT, now))  # the rest of the run is flagged already
        return newly

    def active_raids(self, now: float) -> list[Raid]:
        """Raids seen within the raid window, largest first."""
        horizon = now - self.config.raid_window_s
        return sorted((r for r in self.raids.values() if r.last >= horizon), key=lambda r: (-r.accounts, r.since))

    def _flag(self, comment_id: str, reason: str, ts: float) -> tuple[str, str]:
        self.flagged[comment_id] = ts
        return comment_id, reason

    def _prune(self, now: float) -> None:
        """Drop what left the windows: older than a window, or more than the longest one ahead of `now`.

        The second bound forgets future-dated comments once event time is back to normal, so
        they neither stay counted nor block the front of their deques.
        """
        raid_horizon = now - self.config.raid_window_s
        repeat_horizon = now - self.config.repeat_window_s
        ahead = now + self._longest_s
        text_expiry, user_expiry, posts = self.text_expiry, self.user_expiry, self.posts
        while text_expiry and not raid_horizon <= text_expiry[0][0] <= ahead:
            self._expire_text(text_expiry.popleft())
        while user_expiry and not repeat_horizon <= user_expiry[0][0] <= ahead:
            self._expire_user(user_expiry.popleft())
        # Both queues are the newest posts of the log, so its oldest post is held only at their front.
        while posts and not (text_expiry and text_expiry[0] is posts[0]) and not (
            user_expiry and user_expiry[0] is posts[0]
        ):
            posts.popleft()
        keep = now - self._longest_s
        # Flags are added in about event-time order, so expired ones sit at the front: stop at
        # the first kept one. A flag out of order is dropped late, or holds those after it until
        # it expires (at most a window plus ingest's clock-skew limit): memory only, no miss.
        for cid, ts in list(itertools.takewhile(lambda item: not keep <= item[1] <= ahead, self.flagged.items())):
            del self.flagged[cid]
        self.raids = {fp: r for fp, r in self.raids.items() if raid_horizon <= r.last <= ahead}
        for second in [s for s in self.per_second if not raid_horizon <= s <= ahead]:
            self.in_window -= self.per_second.pop(second)

    def _expire_text(self, post: Post) -> None:
        """Take `post` out of the raid window; it is the oldest of its fingerprint (arrival order)."""
        _, fp, comment_id, user = post
        same = self.by_text[fp]
        same.popleft()
        if not same:  # most texts are said once
            del self.by_text[fp], self.accounts[fp]
            self.repeaters.pop(fp, None)
            return
        accounts = self.accounts[fp]
        account = user or comment_id
        accounts[account] = left = accounts[account] - 1
        if left == 1:
            self.repeaters[fp] -= 1
        elif not left:
            del accounts[account]

    def _expire_user(self, post: Post) -> None:
        """Take `post` out of the repeat window; it is the oldest of its account (arrival order)."""
        _, fp, _, user = post
        account = str(user)  # only posts with an account enter the repeat window
        own = self.by_user[account][1:]
        if not own:
            del self.by_user[account], self.user_texts[account]
            return
        self.by_user[account] = own
        texts = self.user_texts[account]
        texts[fp] = left = texts[fp] - 1
        if not left:
            del texts[fp]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state for checkpoints: the post log and how many of its newest posts each window holds."""
        return {
            "posts": list(self.posts),  # tuples: arrays to orjson
            "in_text": len(self.text_expiry),
            "in_user": len(self.user_expiry),
            "flagged": self.flagged,
            "raids": [[r.fingerprint, r.text, r.accounts, r.since, r.last] for r in self.raids.values()],
            "per_second": [[k, v] for k, v in self.per_second.items()],
            "pruned_second": self.pruned_second,
            "behind_since": self.behind_since,
        }

    @classmethod
    def from_state(cls, config: SpamConfig | None, data: dict[str, Any]) -> SpamDetector:
        """Rebuild from `to_state` output, or from the older layout (a list per fingerprint and account)."""
        detector = cls(config)
        if "posts" in data:
            posts = [(float(t), str(f), str(c), None if u is None else str(u)) for t, f, c, u in data["posts"]]
            detector._refill(posts, int(data["in_text"]), int(data["in_user"]))
        else:
            detector._refill(*_from_lists(data["by_text"], data["by_user"]))
        detector.flagged = {str(k): float(v) for k, v in data["flagged"].items()}
        detector.raids = {r[0]: Raid(r[0], r[1], int(r[2]), float(r[3]), float(r[4])) for r in data["raids"]}
        detector.per_second = {int(k): int(v) for k, v in data["per_second"]}
        detector.in_window = sum(detector.per_second.values())
        detector.pruned_second = int(data["pruned_second"])
        detector.behind_since = data.get("behind_since")
        return detector

    def _refill(self, posts: list[Post], in_text: int, in_user: int) -> None:
        """Refill the windows: the raid window holds the newest `in_text` posts, the repeat window
        the newest `in_user` posts with an account, each in arrival order as `check` added them."""
        with_user = [post for post in posts if post[3] is not None]
        self.text_expiry = deque(posts[len(posts) - in_text :])
        self.user_expiry = deque(with_user[len(with_user) - in_user :])
        held = {id(post) for post in self.user_expiry}.union(map(id, self.text_expiry))
        self.posts = deque(post for post in posts if id(post) in held)
        for post in self.text_expiry:
            _, fp, comment_id, user = post
            self.by_text.setdefault(fp, deque()).append(post)
            accounts = self.accounts.setdefault(fp, {})
            accounts[user or comment_id] = accounts.get(user or comment_id, 0) + 1
        for post in self.user_expiry:
            _, fp, _, user = post
            account = str(user)
            self.by_user[account] = self.by_user.get(account, ()) + (post,)
            texts = self.user_texts.setdefault(account, {})
            texts[fp] = texts.get(fp, 0) + 1
        self.repeaters = Counter({fp: sum(n >= 2 for n in c.values()) for fp, c in self.accounts.items()})


def _from_lists(by_text: dict[str, list[Any]], by_user: dict[str, list[Any]]) -> tuple[list[Post], int, int]:
    """The posts and window sizes of a checkpoint written before the post log (a list per key).

    A post in both windows is one post (same comment id). That layout kept no arrival order:
    posts only in the repeat window come first, then the raid window's, each by time.
    """
    older: dict[str, Post] = {}
    for user, own in by_user.items():
        for ts, fp, cid in own:
            older[str(cid)] = (float(ts), str(fp), str(cid), str(user))
    newer = [
        older.pop(str(cid)) if str(cid) in older else (float(ts), str(fp), str(cid), None if account == cid else str(account))
        for fp, same in by_text.items()
        for ts, account, cid in same
    ]
    posts = sorted(older.values(), key=lambda post: post[0]) + sorted(newer, key=lambda post: post[0])
    return posts, len(newer), sum(map(len, by_user.values()))
