"""Process settings read once from the environment.

This is the only module that reads `os.environ`; everything else receives a `Settings`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from livemon.redis_client import cluster_url

DEFAULT_REDIS_PORT = 6399
DEFAULT_REDIS_URL = f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"


class SettingsError(ValueError):
    """An environment variable holds a value livemon cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a livemon process needs to know about its environment."""

    redis_url: str = DEFAULT_REDIS_URL
    redis_url_given: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    ingest_keys: tuple[str, ...] = ()
    pseudonym_secret: bytes = b""
    partitions: int = 8
    dedup_ttl_s: int = 900
    stream_maxlen: int = 1_000_000
    tick_s: float = 1.0  # housekeeping tick: commands, leases, every partition's snapshots
    publish_s: float = 0.1  # a partition with new events publishes at most this often (livemon/cadence.py)
    publish_budget: float = 0.5  # largest share of the engine's time publishing may take; the interval stretches
    checkpoint_s: float = 5.0  # checkpoint + XACK cadence per partition; costs time in proportion to state
    engine_name: str = "engine-1"
    lease_ttl_s: float = 5.0  # partition lease TTL: a dead engine's partitions move after about this long
    engine_config: Path | None = None
    ready_max_lag: int = 100_000
    # Access control and abuse limits (docs/security.md).
    frame_ancestors: str = "'none'"  # CSP frame-ancestors for /overlay/ pages (LIVEMON_FRAME_ANCESTORS)
    ws_per_token: int = 50  # concurrent websockets one access token may hold per web process
    ingest_rate: float = 20_000.0  # events/s per ingest key (token bucket refill)
    ingest_burst: int = 40_000  # bucket size in events; must hold one full batch
    # Data protection: event streams are trimmed to `retention_s`; the alert audit stream to `audit_retention_s`.
    retention_s: int = 7 * 24 * 3600
    audit_retention_s: int = 3 * 366 * 24 * 3600
    # Shop and platform adapters (docs/ingest.md); an empty secret disables that webhook (401).
    shopify_secret: str = ""
    tiktok_shop_app_key: str = ""
    tiktok_shop_app_secret: str = ""
    doudian_app_key: str = ""
    doudian_app_secret: str = ""
    attribution_config: Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.partitions <= 1024:
            raise SettingsError(f"LIVEMON_PARTITIONS: expected 1-1024, got {self.partitions}")
        if self.dedup_ttl_s < 1:
            raise SettingsError(f"LIVEMON_DEDUP_TTL_S: expected >= 1, got {self.dedup_ttl_s}")
        if not 0.05 <= self.tick_s <= 60:
            raise SettingsError(f"LIVEMON_TICK_S: expected 0.05-60 seconds, got {self.tick_s}")
        if not 0.01 <= self.publish_s <= 60:
            raise SettingsError(f"LIVEMON_PUBLISH_S: expected 0.01-60 seconds, got {self.publish_s}")
        if not 0.05 <= self.publish_budget <= 1:
            raise SettingsError(f"LIVEMON_PUBLISH_BUDGET: expected a share of 0.05-1, got {self.publish_budget}")
        if not 0.05 <= self.checkpoint_s <= 600:
            raise SettingsError(f"LIVEMON_CHECKPOINT_S: expected 0.05-600 seconds, got {self.checkpoint_s}")
        if self.lease_ttl_s < 2 * self.tick_s + 1:  # renewed every tick; reads must fit inside with a margin
            raise SettingsError(f"LIVEMON_LEASE_TTL_S: expected >= 2 x LIVEMON_TICK_S + 1 s, got {self.lease_ttl_s}")
        if self.ingest_rate <= 0:
            raise SettingsError(f"LIVEMON_INGEST_RATE: expected events/s > 0, got {self.ingest_rate}")
        if self.ingest_burst < 5_000:
            raise SettingsError(f"LIVEMON_INGEST_BURST: expected >= 5000 (one full batch), got {self.ingest_burst}")
        if any(c in self.frame_ancestors for c in ";,\r\n"):
            raise SettingsError(
                f"LIVEMON_FRAME_ANCESTORS: expected space-separated origins such as 'https://studio.example.com', "
                f"got {self.frame_ancestors!r}"
            )
        if self.ws_per_token < 1:
            raise SettingsError(f"LIVEMON_WS_PER_TOKEN: expected >= 1, got {self.ws_per_token}")
        if self.retention_s < 60 or self.audit_retention_s < 60:
            raise SettingsError("LIVEMON_RETENTION_S / LIVEMON_AUDIT_RETENTION_S: expected >= 60 seconds")


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None


def load_pseudonym_secret(data_dir: Path, env: dict[str, str]) -> bytes:
    """Return the HMAC key for viewer ids: from the environment, else a persisted random key.

    The key must stay the same across restarts, or one viewer would look like two.
    """
    raw = env.get("LIVEMON_PSEUDONYM_SECRET")
    if raw:
        return raw.encode()
    path = data_dir / "pseudonym.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables (see README "Configuration")."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("LIVEMON_DATA_DIR", "data"))
    redis_url = env.get("REDIS_URL") or env.get("LIVEMON_REDIS_URL") or ""
    if env.get("REDIS_CLUSTER_NODES"):  # Redis Cluster wins: its seed nodes become a redis+cluster:// URL
        try:
            redis_url = cluster_url(env["REDIS_CLUSTER_NODES"])
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    keys = tuple(k.strip() for k in env.get("LIVEMON_INGEST_KEY", "").split(",") if k.strip())
    return Settings(
        redis_url=redis_url or DEFAULT_REDIS_URL,
        redis_url_given=bool(redis_url),
        host=env.get("HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8000),
        data_dir=data_dir,
        ingest_keys=keys,
        pseudonym_secret=load_pseudonym_secret(data_dir, env),
        partitions=_int(env, "LIVEMON_PARTITIONS", 8),
        dedup_ttl_s=_int(env, "LIVEMON_DEDUP_TTL_S", 900),
        stream_maxlen=_int(env, "LIVEMON_STREAM_MAXLEN", 1_000_000),
        tick_s=_float(env, "LIVEMON_TICK_S", 1.0),
        publish_s=_float(env, "LIVEMON_PUBLISH_S", 0.1),
        publish_budget=_float(env, "LIVEMON_PUBLISH_BUDGET", 0.5),
        checkpoint_s=_float(env, "LIVEMON_CHECKPOINT_S", 5.0),
        engine_name=env.get("LIVEMON_ENGINE_NAME", "engine-1"),
        lease_ttl_s=_float(env, "LIVEMON_LEASE_TTL_S", 5.0),
        engine_config=Path(env["LIVEMON_ENGINE_CONFIG"]) if env.get("LIVEMON_ENGINE_CONFIG") else None,
        ready_max_lag=_int(env, "LIVEMON_READY_MAX_LAG", 100_000),
        frame_ancestors=env.get("LIVEMON_FRAME_ANCESTORS") or "'none'",
        ws_per_token=_int(env, "LIVEMON_WS_PER_TOKEN", 50),
        ingest_rate=_float(env, "LIVEMON_INGEST_RATE", 20_000.0),
        ingest_burst=_int(env, "LIVEMON_INGEST_BURST", 40_000),
        retention_s=_int(env, "LIVEMON_RETENTION_S", 7 * 24 * 3600),
        audit_retention_s=_int(env, "LIVEMON_AUDIT_RETENTION_S", 3 * 366 * 24 * 3600),
        shopify_secret=env.get("LIVEMON_SHOPIFY_SECRET", ""),
        tiktok_shop_app_key=env.get("LIVEMON_TIKTOK_SHOP_APP_KEY", ""),
        tiktok_shop_app_secret=env.get("LIVEMON_TIKTOK_SHOP_APP_SECRET", ""),
        doudian_app_key=env.get("LIVEMON_DOUDIAN_APP_KEY", ""),
        doudian_app_secret=env.get("LIVEMON_DOUDIAN_APP_SECRET", ""),
        attribution_config=Path(env["LIVEMON_ATTRIBUTION_CONFIG"]) if env.get("LIVEMON_ATTRIBUTION_CONFIG") else None,
    )
