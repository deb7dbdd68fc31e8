"""Settings, from the command line and the environment (environment names in README)."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from quiz_engine.errors import ConfigError
from quiz_engine.protocol.frames import PROFILE_FIELDS


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


# uvicorn WebSocket protocol per QUIZ_WS_IMPL: the engine's frame hook (default), or stock
# uvicorn ones as a fallback should an uvicorn upgrade ever break the hook (slower, same behaviour)
WS_IMPLS = {
    "hook": "quiz_engine.web.wsproto:DirectWebSocketProtocol",
    "uvicorn": "websockets-sansio",
    "uvicorn-legacy": "websockets",
}

# event loop per QUIZ_LOOP: uvloop (libuv, in C) writes to a socket in about half the CPU of
# asyncio's selector loop, which is most of a question's fan-out. auto: uvloop where it is
# installed (a dependency everywhere but Windows), else asyncio
LOOPS = ("auto", "uvloop", "asyncio")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    redis_url: str | None = None
    host_token: str | None = None
    public_url: str | None = None
    stream_delay_s: float = 0.0
    grace_ms: int = 500
    banks: list[Path] = field(default_factory=lambda: [Path("question_banks")])
    required_fields: tuple[str, ...] = ()
    one_prize_per_person: bool = False
    allowed_origins: tuple[str, ...] = ()  # empty: same host only (plus no Origin header)
    # proxies whose X-Forwarded-For/-Proto are believed; empty: the headers are ignored
    trusted_proxies: tuple[str, ...] = ()
    # Host names served (besides the public URL's, localhost, IP literals, this machine's name)
    allowed_hosts: tuple[str, ...] = ()
    header_timeout_s: float = 10.0  # a request head must arrive within this of the connect
    max_pending: int = 2048  # connections still without a request head 1 s after connecting, per node
    max_pending_per_ip: int = 64  # the same, per client address (trusted proxies exempt)
    max_buffer_bytes: int = 256 * 1024
    max_conns_per_ip: int = 1000  # per node; 0 = unlimited (offices share one NAT address)
    joins_per_ip_per_s: float = 2.0  # sustained joins per client IP per node
    join_burst_per_ip: float = 120.0  # a whole office joining at once
    messages_per_s: float = 10.0  # per socket, sustained
    message_burst: float = 30.0
    fast_answer_ms: int = 300  # answers faster than this are flagged for review
    max_allowance_ms: int = 1000  # cap of the delivery allowance (the fan-out's own write order)
    demo: bool = False
    autoload: tuple[str, str] | None = None  # (bank, episode) to load at start if none is
    node_id: str | None = None
    ws_impl: str = "hook"  # see WS_IMPLS
    loop: str = "auto"  # see LOOPS
    fanout_threads: int = 2  # threads writing a large broadcast (hub.py); 1 = the event loop's only

    @classmethod
    def from_env(cls) -> Settings:
        s = cls()
        s.redis_url = os.environ.get("REDIS_URL") or None
        s.host_token = os.environ.get("QUIZ_HOST_TOKEN") or None
        s.public_url = os.environ.get("QUIZ_PUBLIC_URL") or None
        s.stream_delay_s = _env_float("QUIZ_STREAM_DELAY", 0.0)
        s.grace_ms = int(_env_float("QUIZ_GRACE_MS", 500))
        s.max_allowance_ms = int(_env_float("QUIZ_MAX_ALLOWANCE_MS", s.max_allowance_ms))
        if os.environ.get("QUIZ_DATA_DIR"):
            s.data_dir = Path(os.environ["QUIZ_DATA_DIR"])
        if os.environ.get("QUIZ_REQUIRED_FIELDS"):
            s.required_fields = parse_required(os.environ["QUIZ_REQUIRED_FIELDS"])
        if os.environ.get("QUIZ_ALLOWED_ORIGINS"):
            s.allowed_origins = tuple(o.strip() for o in os.environ["QUIZ_ALLOWED_ORIGINS"].split(",") if o.strip())
        for name, attr in (("QUIZ_TRUSTED_PROXIES", "trusted_proxies"), ("QUIZ_ALLOWED_HOSTS", "allowed_hosts")):
            if os.environ.get(name):
                setattr(s, attr, tuple(v.strip() for v in os.environ[name].split(",") if v.strip()))
        s.header_timeout_s = _env_float("QUIZ_HEADER_TIMEOUT", s.header_timeout_s)
        s.max_pending = int(_env_float("QUIZ_MAX_PENDING", s.max_pending))
        s.max_pending_per_ip = int(_env_float("QUIZ_MAX_PENDING_PER_IP", s.max_pending_per_ip))
        # abuse limits (per node; see README "Configuration")
        s.max_conns_per_ip = int(_env_float("QUIZ_MAX_CONNS_PER_IP", s.max_conns_per_ip))
        s.joins_per_ip_per_s = _env_float("QUIZ_JOIN_RATE", s.joins_per_ip_per_s)
        s.join_burst_per_ip = _env_float("QUIZ_JOIN_BURST", s.join_burst_per_ip)
        s.messages_per_s = _env_float("QUIZ_MSG_RATE", s.messages_per_s)
        s.message_burst = _env_float("QUIZ_MSG_BURST", s.message_burst)
        s.max_buffer_bytes = int(_env_float("QUIZ_MAX_BUFFER", s.max_buffer_bytes))
        s.ws_impl = os.environ.get("QUIZ_WS_IMPL") or s.ws_impl
        s.loop = os.environ.get("QUIZ_LOOP") or s.loop
        s.fanout_threads = int(_env_float("QUIZ_FANOUT_THREADS", s.fanout_threads))
        return s

    def to_json(self) -> str:
        """For handing the settings to worker processes (``serve --workers``)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str) -> Settings:
        data = json.loads(raw)
        data["data_dir"] = Path(data["data_dir"])
        data["banks"] = [Path(b) for b in data["banks"]]
        for key in ("required_fields", "allowed_origins", "trusted_proxies", "allowed_hosts"):
            data[key] = tuple(data[key])
        if data.get("autoload"):
            data["autoload"] = tuple(data["autoload"])
        return cls(**data)

    def validate(self) -> None:
        if not 0 <= self.stream_delay_s <= 120:
            raise ConfigError(f"stream delay must be between 0 and 120 seconds, got {self.stream_delay_s}")
        if not 0 <= self.grace_ms <= 5000:
            raise ConfigError(f"grace must be between 0 and 5000 ms, got {self.grace_ms}")
        if not 0 <= self.max_allowance_ms <= 5000:
            raise ConfigError(f"QUIZ_MAX_ALLOWANCE_MS must be between 0 and 5000, got {self.max_allowance_ms}")
        if self.max_conns_per_ip < 0 or self.max_buffer_bytes < 1024:
            raise ConfigError("QUIZ_MAX_CONNS_PER_IP must be >= 0 and QUIZ_MAX_BUFFER >= 1024")
        if min(self.joins_per_ip_per_s, self.join_burst_per_ip, self.messages_per_s, self.message_burst) <= 0:
            raise ConfigError("QUIZ_JOIN_RATE, QUIZ_JOIN_BURST, QUIZ_MSG_RATE and QUIZ_MSG_BURST must be > 0")
        if self.ws_impl not in WS_IMPLS:
            raise ConfigError(f"QUIZ_WS_IMPL must be one of {', '.join(WS_IMPLS)}, got {self.ws_impl!r}")
        if not 1 <= self.fanout_threads <= 16:
            raise ConfigError(f"QUIZ_FANOUT_THREADS must be between 1 and 16, got {self.fanout_threads}")
        if self.loop not in LOOPS:
            raise ConfigError(f"QUIZ_LOOP must be one of {', '.join(LOOPS)}, got {self.loop!r}")
        if not 0.5 <= self.header_timeout_s <= 120:
            raise ConfigError(f"QUIZ_HEADER_TIMEOUT must be between 0.5 and 120 seconds, got {self.header_timeout_s}")
        if self.max_pending < 1 or self.max_pending_per_ip < 1:
            raise ConfigError("QUIZ_MAX_PENDING and QUIZ_MAX_PENDING_PER_IP must be at least 1")
        for proxy in self.trusted_proxies:
            _check_network(proxy)
        for name in self.allowed_hosts:
            if name != "*" and (not name or any(c in name for c in "/: ")):
                raise ConfigError(f"allowed host {name!r} must be a bare host name (no scheme, port or path), or *")
        if self.host_token is not None and len(self.host_token) < 12:
            raise ConfigError("the host token must be at least 12 characters long")


def _check_network(value: str) -> None:
    """A trusted proxy is an address or network (uvicorn's forwarded_allow_ips syntax), or *."""
    if value == "*":
        return
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ConfigError(f"trusted proxy {value!r} is not an IP address or network "
                          "(e.g. 127.0.0.1, 10.0.0.0/8)") from None


def parse_required(raw: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in raw.split(",") if f.strip())
    for f in fields:
        if f not in PROFILE_FIELDS:
            raise ConfigError(f"unknown required field {f!r}; choose from {', '.join(PROFILE_FIELDS)}")
    return fields
