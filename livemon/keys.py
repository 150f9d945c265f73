"""Names of every Redis key, stream, group and wire message type, in one place.

Layout: events are partitioned by `crc32(session) % partitions`. Every key that one
partition's Lua scripts and transactions touch carries the hash tag `{pN}`, so on Redis
Cluster they live in one slot::

    lm:ev:{p3}                  stream of events (field "e" = compact JSON of monitor.events.Event)
    lm:dd:{p3}:<bucket>         set of accepted "<session>/<id>" of one time bucket (ingest de-duplication)
    lm:ckpt:{p3}                engine checkpoint: JSON {"last_id", "state"} written with the XACK in one Lua call
    lm:lease:{p3}               partition lease: the owning engine instance, SET NX PX (livemon/partition_leases.py)
    lm:snap                     hash session -> latest snapshot JSON (new clients start from it)
    lm:curves                   hash session -> {"series", "markers"} JSON of its latest snapshot that had
                                them (one in `series_interval_s`), spliced into the replay to a new screen
    lm:updates                  stream of snapshot updates tailed by every web node (fan-out)
    lm:alerts                   stream of alert transitions: the audit trail, resumable by id
                                (fields "s" = session, "r" = Transition.to_dict() JSON; trimmed by MINID)
    lm:alerts:active            hash fingerprint -> Alert.to_dict() JSON of alerts the engines hold now
    lm:alerts:cmd               stream of responder commands (ack, resolve, silence) for the engines
    lm:silences                 hash silence id (= its command id) -> silence JSON, for the API
    lm:suggest:cmd              stream of host accept/skip choices on product suggestions for the engines
    lm:answers:cmd              stream of question groups marked answered on the overlay, for the engines
    lm:notify:status            hash receiver -> delivery counters and last error JSON
    lm:notify:failed            stream of deliveries given up after every retry
    lm:stats:engine             hash engine name -> last tick statistics (read by /metrics)
    lm:engines                  hash engine instance -> heartbeat JSON {"at", "name", "partitions"} (lease balancing)
    lm:tok:<id>                 access token record (hash): sha256 of the secret, role, sessions, expiry
    lm:toks                     set of token ids, for `livemon token list`
    lm:cookie-key               random key signing browser session cookies, shared by every web node
    lm:rl:<key digest>          ingest rate-limit bucket of one ingest key (hash: tokens, ts)
    lm:purge                    hash session -> purge time; engines drop these sessions from memory
"""

from __future__ import annotations

import zlib

PREFIX = "lm"
ENGINE_GROUP = "engine"
EVENT_FIELD = "e"
SNAPSHOTS = f"{PREFIX}:snap"
CURVES = f"{PREFIX}:curves"
UPDATES = f"{PREFIX}:updates"
ALERTS = f"{PREFIX}:alerts"
ALERT_SESSION_FIELD = "s"
ALERT_RECORD_FIELD = "r"
ALERTS_ACTIVE = f"{PREFIX}:alerts:active"
ALERT_COMMANDS = f"{PREFIX}:alerts:cmd"
ALERT_COMMANDS_MAXLEN = 10_000
SILENCES = f"{PREFIX}:silences"
SUGGESTION_CHOICES = f"{PREFIX}:suggest:cmd"
SUGGESTION_CHOICES_MAXLEN = 10_000
QUESTION_ANSWERS = f"{PREFIX}:answers:cmd"  # stream of {"session", "group", "at"}: questions marked answered
QUESTION_ANSWERS_MAXLEN = 10_000
NOTIFY_GROUP = "notifier"  # consumer group on ALERTS: each transition is delivered by one web process
NOTIFY_STATUS = f"{PREFIX}:notify:status"
NOTIFY_FAILED = f"{PREFIX}:notify:failed"
NOTIFY_FAILED_MAXLEN = 1_000
# hash engine name -> {"tick_s", "at", "events", "publish_interval_s", "held_out"} for /metrics
ENGINE_STATS = f"{PREFIX}:stats:engine"
UPDATES_MAXLEN = 10_000
ENGINES = f"{PREFIX}:engines"  # hash engine instance -> heartbeat; live engines share the partitions
TOKENS = f"{PREFIX}:toks"
COOKIE_KEY = f"{PREFIX}:cookie-key"
PURGE = f"{PREFIX}:purge"

# Wire message types sent to browsers; every message is {"type": ..., "v": 1, ...}.
MSG_SNAPSHOT = "snapshot"
MSG_BATCH = "batch"
MSG_HEARTBEAT = "heartbeat"
MSG_HELLO = "hello"
MSG_ERROR = "error"
MSG_ALERT = "alert"
WIRE_VERSION = 1


def partition_of(session: str, partitions: int) -> int:
    """Map a session to its partition; stable across processes and restarts."""
    return zlib.crc32(session.encode()) % partitions


def events_stream(partition: int) -> str:
    """Stream holding the events of one partition."""
    return f"{PREFIX}:ev:{{p{partition}}}"


def events_written(partition: int) -> str:
    """Hash {"events", "entries"}: what the writer added to one partition's stream lately (ingest/writer.py)."""
    return f"{PREFIX}:evn:{{p{partition}}}"


def dedup_bucket(partition: int, bucket: int) -> str:
    """Set of the event ids one partition accepted during one de-duplication time bucket (ingest/writer.py)."""
    return f"{PREFIX}:dd:{{p{partition}}}:{bucket}"


def dedup_buckets_pattern(partition: int) -> str:
    """SCAN pattern of every de-duplication bucket of one partition."""
    return f"{PREFIX}:dd:{{p{partition}}}:*"


def dedup_member(session: str, event_id: str) -> str:
    """A bucket's member for one event: "/" is in neither identifier (monitor.event_parsing.ID_PATTERN)."""
    return f"{session}/{event_id}"


def checkpoint_key(partition: int) -> str:
    """Engine checkpoint of one partition (same slot as its stream)."""
    return f"{PREFIX}:ckpt:{{p{partition}}}"


def checkpoint_ids_key(partition: int) -> str:
    """Remembered event ids of one partition's checkpoint: hash of `monitor.engine.ids_key` -> base64 digests.

    Kept beside `checkpoint_key` so a checkpoint rewrites only the minutes that changed.
    """
    return f"{PREFIX}:ckpt:{{p{partition}}}:ids"


def lease_key(partition: int) -> str:
    """Lease of one partition (same slot as its stream and checkpoint, so the checkpoint script can check it)."""
    return f"{PREFIX}:lease:{{p{partition}}}"


def token_key(token_id: str) -> str:
    """Record of one access token (the secret itself is never stored, only its SHA-256)."""
    return f"{PREFIX}:tok:{token_id}"


def rate_limit_key(key_digest: str) -> str:
    """Token bucket of one ingest key, named by a digest so the key never appears in Redis."""
    return f"{PREFIX}:rl:{key_digest}"
