"""Lexicon parsing and matching: longest term wins, Latin terms are whole words."""

from __future__ import annotations

import pytest

from monitor.lexicon import Kind, Lexicon, parse_lexicon


def test_lexicon_shield_wins_over_the_word_inside_it() -> None:
    lexicon = Lexicon(parse_lexicon("退\tneg\t-1\n退出直播间\tneu\t0\n"))
    assert [m.group() for m in lexicon.pattern.finditer("退出直播间 退")] == ["退出直播间", "退"]


def test_lexicon_latin_terms_match_whole_words_only() -> None:
    lexicon = Lexicon(parse_lexicon("bad\tneg\t-1\n"))
    assert [m.group() for m in lexicon.pattern.finditer("badge bad")] == ["bad"]


def test_lexicon_rejects_malformed_rows() -> None:
    with pytest.raises(ValueError, match="x.tsv:2"):
        parse_lexicon("好\tpos\t1\n坏\tworse\t1\n", "x.tsv")


def test_lexicon_latin_terms_do_not_match_the_tail_of_a_word() -> None:
    lexicon = Lexicon(parse_lexicon("so\tdeg\t1.4\n"))
    text = "also so"
    found = [m for m in lexicon.pattern.finditer(text) if lexicon.starts_word(text, m.start(), m.group())]
    assert [m.start() for m in found] == [5]


def test_lexicon_default_files_parse_and_cover_every_kind() -> None:
    lexicon = Lexicon.default()
    assert {e.kind for e in lexicon.entries.values()} == set(Kind)
    assert lexicon.entries["踩雷"].kind is Kind.NEGATIVE
    assert lexicon.entries["退出直播间"].kind is Kind.SHIELD


def test_lexicon_empty_matches_nothing() -> None:
    assert list(Lexicon([]).pattern.finditer("好看 love")) == []


def test_lexicon_card_words_shield_the_lag_forms_around_them() -> None:
    # Leftmost-longest: 刷卡 starts before 卡了 and 好卡通 is longer than 好卡, so neither lag form matches.
    lexicon = Lexicon.default()
    found = [m.group() for m in lexicon.pattern.finditer("刷卡了 好卡通 好卡")]
    assert found == ["刷卡", "好卡通", "好卡"]
    assert lexicon.entries["好卡"].kind is Kind.NEGATIVE
    assert lexicon.entries["好卡通"].kind is Kind.SHIELD


def test_lexicon_lag_matches_whole_words_only() -> None:
    lexicon = Lexicon.default()
    text = "flag collagen lag"
    found = [m for m in lexicon.pattern.finditer(text) if lexicon.starts_word(text, m.start(), m.group())]
    assert [(m.start(), m.group()) for m in found] == [(14, "lag")]
