"""Viewer pseudonyms: keyed, stable, scoped by platform, and not shared across secrets despite the cache."""

from __future__ import annotations

import hashlib
import hmac

from ingest.pseudonym import pseudonymise


def test_pseudonym_is_the_documented_keyed_hash() -> None:
    # docs/security.md: `u_` + HMAC-SHA-256 of "platform NUL viewer id", first 12 bytes in hex
    expected = "u_" + hmac.new(b"secret", b"douyin\x00viewer-7", hashlib.sha256).digest()[:12].hex()
    assert pseudonymise(b"secret", "douyin", "viewer-7") == expected
    assert pseudonymise(b"secret", "douyin", "viewer-7") == expected  # a cache hit gives the same answer


def test_cached_pseudonyms_depend_on_secret_and_platform() -> None:
    first = pseudonymise(b"secret-a", "douyin", "viewer-7")
    assert pseudonymise(b"secret-b", "douyin", "viewer-7") != first
    assert pseudonymise(b"secret-a", "tiktok", "viewer-7") != first
    assert pseudonymise(b"secret-a", "douyin", "viewer-7") == first
