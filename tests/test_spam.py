"""Raids (many accounts, one text) and self-repeating accounts."""

from __future__ import annotations

import random

import orjson
import pytest

from monitor.spam import RAID, REPEAT, SpamConfig, SpamDetector
from monitor.text_fingerprint import fingerprint, is_call_answer


def test_spam_raid_flags_every_account_once_threshold_reached() -> None:
    # accounts:  a0 a1 a2 a3 | a4 -> raid: a0..a4 flagged together, a5 flagged on arrival
    detector = SpamDetector(SpamConfig(raid_window_s=30, raid_min_accounts=5))
    flagged = []
    for i in range(4):
        assert detector.check(f"c{i}", f"a{i}", "骗子!", 100.0 + i) == []
    flagged = detector.check("c4", "a4", "骗子骗子", 104.0)
    assert sorted(flagged) == [(f"c{i}", RAID) for i in range(5)]
    assert detector.check("c5", "a5", "骗子", 105.0) == [("c5", RAID)]
    (raid,) = detector.active_raids(105.0)
    assert raid.accounts == 6 and raid.since == 100.0


def test_spam_accounts_spread_beyond_the_window_are_not_a_raid() -> None:
    detector = SpamDetector(SpamConfig(raid_window_s=30, raid_min_accounts=5))
    flagged = [detector.check(f"c{i}", f"a{i}", "好看", 100.0 + 20 * i) for i in range(6)]
    assert flagged == [[]] * 6
    assert detector.active_raids(300.0) == []


def test_spam_one_account_repeating_itself() -> None:
    detector = SpamDetector(SpamConfig(repeat_window_s=60, repeat_min=3))
    assert detector.check("c1", "u", "看我主页", 0.0) == []
    assert detector.check("c2", "u", "看我主页!", 10.0) == []
    assert detector.check("c3", "u", "看我主页", 20.0) == [("c1", REPEAT), ("c2", REPEAT), ("c3", REPEAT)]
    assert detector.check("c4", "v", "看我主页", 21.0) == []


def test_spam_repeat_run_flags_each_post_once_and_survives_a_checkpoint() -> None:
    detector = SpamDetector(SpamConfig(repeat_window_s=60, repeat_min=3))
    detector.check("c1", "u", "看我主页", 0.0)
    detector.check("x1", "u", "别的话", 5.0)
    detector.check("c2", "u", "看我主页", 10.0)
    restored = SpamDetector.from_state(detector.config, detector.to_state())
    assert restored.check("c3", "u", "看我主页", 20.0) == [("c1", REPEAT), ("c2", REPEAT), ("c3", REPEAT)]
    assert restored.check("c4", "u", "看我主页", 30.0) == [("c4", REPEAT)]
    # a minute later the run has left the window: two new posts are not a run yet
    assert restored.check("c5", "u", "看我主页", 95.0) == []
    assert restored.check("c6", "u", "看我主页", 96.0) == []


@pytest.mark.parametrize("text", ["扣1", "1111", "已拍", "666666", "哈哈哈哈"])
def test_spam_call_answers_from_a_crowd_are_exempt(text: str) -> None:
    detector = SpamDetector()
    assert is_call_answer(text)
    flagged = [detector.check(f"c{i}", f"a{i}", text, float(i)) for i in range(10)]
    assert flagged == [[]] * 10


def test_spam_state_round_trip_keeps_windows() -> None:
    detector = SpamDetector()
    for i in range(4):
        detector.check(f"c{i}", f"a{i}", "假货", float(i))
    restored = SpamDetector.from_state(None, detector.to_state())
    assert restored.check("c4", "a4", "假货", 4.0) == detector.check("c4", "a4", "假货", 4.0)


def test_spam_config_explains_bad_values() -> None:
    with pytest.raises(ValueError, match="raid_min_accounts"):
        SpamConfig(raid_min_accounts=1)


def test_spam_common_phrase_in_a_busy_room_is_not_a_raid() -> None:
    # 6 accounts say "好看" within 30 s, but among 100 varied comments: normal, not 控评.
    detector = SpamDetector(SpamConfig(raid_window_s=30, raid_min_accounts=5, raid_min_share=0.2))
    flagged = []
    for i in range(100):
        text = "好看" if i % 16 == 0 else f"评论{chr(0x4E00 + i)}{chr(0x4E80 + i)}"
        flagged += detector.check(f"c{i}", f"a{i}", text, 100.0 + i * 0.25)
    assert flagged == []


def test_spam_crew_repeating_one_line_in_a_busy_room_is_a_raid() -> None:
    # 100 varied comments in 25 s; 6 accounts post 大家别买 in turn, a0 and a1 twice: 8 % of the chat, repeated
    detector = SpamDetector(SpamConfig(raid_window_s=30, raid_min_accounts=5, raid_min_share=0.2,
                                       raid_min_repeaters=2))
    crew = ["a0", "a1", "a2", "a0", "a3", "a4", "a1", "a5"]
    flagged = []
    for i in range(100):
        if i % 12 == 0 and i // 12 < len(crew):
            flagged += detector.check(f"c{i}", crew[i // 12], "大家别买 主播骗人!", 100.0 + i * 0.25)
        else:
            flagged += detector.check(f"c{i}", f"v{i}", f"评论{chr(0x4E00 + i)}{chr(0x4E80 + i)}", 100.0 + i * 0.25)
    # a1's second post (c72) makes two repeaters among 5 accounts: the whole run is flagged, c84 on arrival
    assert {cid for cid, reason in flagged if reason == RAID} == {f"c{i}" for i in range(0, 96, 12)}


def test_spam_config_rejects_zero_repeaters() -> None:
    with pytest.raises(ValueError, match="raid_min_repeaters"):
        SpamConfig(raid_min_repeaters=0)


def _state_size(detector: SpamDetector) -> int:
    """Entries held in every window table of the detector."""
    return (
        sum(map(len, detector.by_text.values()))
        + sum(map(len, detector.by_user.values()))
        + len(detector.flagged)
        + len(detector.per_second)
        + len(detector.raids)
    )


def _busy_room(detector: SpamDetector, start_s: float, seconds: int, per_second: int = 20) -> list[int]:
    """Feed a room: 200 accounts, a few texts, a repeating spammer; return the state size each minute."""
    sizes = []
    n = 0
    for second in range(seconds):
        for k in range(per_second):
            n += 1
            now = start_s + second + k / per_second
            user, text = (f"u{n % 200}", f"好看 {n % 7} 款{n % 13}") if n % 10 else ("spammer", "看我主页")
            detector.check(f"c{n}", user, text, now)
        if second % 60 == 59:
            sizes.append(_state_size(detector))
    return sizes


def test_spam_state_stays_bounded_over_a_long_stream() -> None:
    # 2 hours at 20 comments/s: the windows (30 s raid, 60 s repeat) hold ~1,200 comments whatever the length.
    detector = SpamDetector()
    sizes = _busy_room(detector, 1_000.0, 7_200)
    assert max(sizes) <= 3 * 60 * 20
    assert sizes[-1] <= sizes[1] * 1.1  # no drift after the first minutes
    assert len(detector.flagged) > 0  # the spammer is flagged, and forgotten a window later
    assert len(detector.posts) <= 61 * 20  # the post log holds the longest (60-s) window, no more


def test_spam_a_future_dated_comment_does_not_stop_the_windows() -> None:
    # One comment stamped a day ahead (a producer with a wrong clock) must not freeze pruning:
    #   t=1000 .. 1010: normal | t=87400: outlier "好看 0 款0" | t=1010 .. 3410: normal again
    detector = SpamDetector()
    _busy_room(detector, 1_000.0, 10)
    detector.check("x", "clock-wrong", "好看 0 款0", 87_400.0)
    sizes = _busy_room(detector, 1_010.0, 2_400)
    assert sizes[0] <= 4 * 60 * 20  # a window of comments far behind it is held before the clock is doubted
    assert max(sizes[1:]) <= 3 * 60 * 20
    # ... and the outlier itself is forgotten, not counted in every later window.
    assert len(detector.per_second) <= 31
    assert "clock-wrong" not in detector.by_user
    assert all(cid != "x" for q in detector.by_text.values() for _, _, cid, _ in q)


def test_spam_a_late_comment_keeps_the_windows() -> None:
    # a0..a3 post 骗子 at 100..103 | a late comment stamped 2 minutes earlier | a4 at 104: still a raid of five
    detector = SpamDetector(SpamConfig(raid_window_s=30, raid_min_accounts=5))
    for i in range(4):
        detector.check(f"c{i}", f"a{i}", "骗子", 100.0 + i)
    assert detector.check("late", "b", "好看", -20.0) == []
    assert sorted(detector.check("c4", "a4", "骗子", 104.0)) == [(f"c{i}", RAID) for i in range(5)]


def test_spam_windows_keep_sliding_after_a_restore() -> None:
    """A restored detector forgets what leaves its windows, as the one it was saved from would."""
    detector = SpamDetector(SpamConfig(raid_window_s=30, repeat_window_s=60))
    for i in range(50):
        detector.check(f"c{i}", f"u{i % 7}", f"话题{chr(0x4E00 + i)}", 100.0 + i / 10)
    restored = SpamDetector.from_state(None, detector.to_state())
    restored.check("late-1", "v", "新的一句", 135.0)  # the 30-s raid window has moved past every post
    assert set(restored.by_text) == {fingerprint("新的一句")}
    assert set(restored.by_user) == {f"u{i}" for i in range(7)} | {"v"}  # the 60-s window still holds them
    restored.check("late-2", "v", "新的一句", 165.0)
    assert set(restored.by_user) == {"v"}


def _stream(seed: int, n: int = 6_000) -> list[tuple[str, str | None, str, float]]:
    """A room at ~20 comments/s, arrivals up to 1.5 s out of order: chatter from 300 viewers, anonymous
    posts, call answers, a spammer repeating himself, a crew pasting one line, one late and one
    future-dated comment."""
    rng = random.Random(seed)
    out: list[tuple[str, str | None, str, float]] = []
    for i in range(n):
        now = 1_000.0 + i / 20 + rng.uniform(0.0, 1.5)
        user: str | None = f"v{rng.randrange(300)}"
        text = rng.choice(["好看", "多少钱", "主播好美", "质量怎么样", "发货快吗", "扣1", "哈哈哈", f"款式{rng.randrange(40)}"])
        if i % 11 == 0:
            user = None
        elif i % 17 == 0:
            user, text = "spammer", "看我主页!!"
        elif 2_000 <= i < 2_600 and i % 4 == 0:
            user, text = f"crew{rng.randrange(8)}", "大家别买 主播骗人"
        out.append((f"c{i}", user, text, now))
    out.insert(3_000, ("late", "v1", "好看", 900.0))
    out.insert(4_000, ("future", "v2", "好看", 90_000.0))
    return out


def _windows(detector: SpamDetector) -> dict[str, object]:
    """Everything a detector's future answers depend on (dict order aside, which none of them read)."""
    held = {id(post) for post in (*detector.text_expiry, *detector.user_expiry)}
    return {
        "by_text": {fp: list(q) for fp, q in detector.by_text.items()},
        "by_user": {user: list(q) for user, q in detector.by_user.items()},
        "held": [post for post in detector.posts if id(post) in held],
        "text_expiry": list(detector.text_expiry),
        "user_expiry": list(detector.user_expiry),
        "accounts": detector.accounts,
        "repeaters": +detector.repeaters,
        "user_texts": detector.user_texts,
        "flagged": list(detector.flagged.items()),
        "raids": list(detector.raids.values()),
        "per_second": detector.per_second,
        "in_window": detector.in_window,
        "pruned": (detector.pruned_second, detector.behind_since),
    }


def test_spam_restored_anywhere_it_answers_as_the_uninterrupted_detector() -> None:
    # |---- checkpoint every 500 comments through JSON ----| each restored copy is fed the rest of the
    # stream beside the original: same windows at once, same flags for every later comment, same raids.
    stream = _stream(11)
    original = SpamDetector()
    answers = [original.check(*comment) for comment in stream]
    assert {reason for flags in answers for _, reason in flags} == {RAID, REPEAT}  # the stream exercises both
    for cut in range(500, len(stream), 500):
        before = SpamDetector()
        for comment in stream[:cut]:
            before.check(*comment)
        restored = SpamDetector.from_state(None, orjson.loads(orjson.dumps(before.to_state())))
        assert _windows(restored) == _windows(before)
        assert [restored.check(*comment) for comment in stream[cut:]] == answers[cut:]
        assert restored.active_raids(stream[-1][3]) == original.active_raids(stream[-1][3])


def test_spam_restores_a_checkpoint_of_the_older_layout() -> None:
    # Written by the detector before the post log (one list per fingerprint and per account): s1 at 60 s is
    # only in the repeat window, a0..a3 posted 骗子 at 100..103, n1 posted with no account.
    older = orjson.loads(
        '{"by_text":{"看我主页":[[95.0,"u","s2"]],"骗子":[[100.0,"a0","c0"],[101.0,"a1","c1"],[102.0,"a2","c2"],'
        '[103.0,"a3","c3"]],"假货":[[101.5,"n1","n1"]]},"by_user":{"u":[[60.0,"看我主页","s1"],[95.0,"看我主页","s2"]],'
        '"a0":[[100.0,"骗子","c0"]],"a1":[[101.0,"骗子","c1"]],"a2":[[102.0,"骗子","c2"]],"a3":[[103.0,"骗子","c3"]]},'
        '"flagged":{},"raids":[],"per_second":[[95,1],[100,1],[101,2],[102,1],[103,1]],"pruned_second":103}'
    )
    config = SpamConfig(raid_window_s=30, raid_min_accounts=5, repeat_window_s=60, repeat_min=3)
    restored = SpamDetector.from_state(config, older)
    # what the detector that wrote it answered next:
    assert restored.check("c4", "a4", "骗子", 104.0) == [(f"c{i}", RAID) for i in range(5)]
    assert restored.check("s3", "u", "看我主页", 105.0) == [("s1", REPEAT), ("s2", REPEAT), ("s3", REPEAT)]
    assert restored.check("n2", None, "假货", 106.0) == []
    assert restored.check("s4", "u", "看我主页", 125.0) == [("s4", REPEAT)]
    assert restored.in_window == 10 and set(restored.accounts["假货"]) == {"n1", "n2"}
