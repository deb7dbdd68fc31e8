"""Settings of a server node: one declaration per setting, three layers (defaults < env < CLI).

Each field of :class:`Settings` that a user can set carries a :class:`Spec` (in its dataclass
``metadata``): environment variable, ``serve`` flag, parser, check, help text. Everything else
derives from that one table, so the parts cannot drift apart:

- :func:`env_layer` and :func:`cli_layer` turn the environment and parsed flags into *layers*
  (``{field: (value, source)}``, only what was actually given), parse errors naming the source;
- :func:`add_arguments` declares the flags of ``serve`` (and ``--data-dir``/``--redis-url`` of the
  offline commands), every default ``None`` so that an absent flag never clobbers the env value;
- :func:`merge` lays the layers over the defaults and validates, errors naming where the value came
  from (``--grace-ms must be between 0 and 5000, got 9000``);
- :func:`readme_table` renders README's Configuration table (``python -m quiz_engine.config README.md``
  rewrites it; a test checks it is current).

``load(env, argv)`` does all of it at once, for tests and embedders.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from quiz_engine.errors import ConfigError
from quiz_engine.protocol.frames import PROFILE_FIELDS
from quiz_engine.sources import source_problem

# how the node's own WebSocket layer (web/wsconn.py) reads client frames, per QUIZ_WS_IMPL: the
# small-frame fast path where it is safe (default), or every frame through websockets' parser
WS_IMPLS = {
    "fast": "small data frames split and unmasked by the engine, the rest by websockets' parser",
    "parser": "every frame through websockets' parser (the same behaviour, more CPU per answer)",
}

# event loop per QUIZ_LOOP: uvloop (libuv, in C) writes to a socket in about half the CPU of
# asyncio's selector loop, which is most of a question's fan-out. auto: uvloop where it is
# installed (a dependency everywhere but Windows), else asyncio
LOOPS = ("auto", "uvloop", "asyncio")

DEFAULT_DATA_DIR = Path("data")
DEFAULT_BANKS = (Path("question_banks"),)  # a list in Settings (see setting())
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")

Check = Callable[[Any], str | None]  # a problem with a value ("must be ..."), or None
Layer = dict[str, tuple[Any, str]]  # field name -> (value, where it came from)

_SPEC = "quiz_engine.setting"


@dataclass(frozen=True)
class Spec:
    """How one setting is given from outside, parsed and checked.

    ``parse`` turns one raw string into the value (an item, for a list setting) or raises
    ``ValueError("is not a number")``; ``check`` says what is wrong with a parsed value (each item,
    for a list). A list setting (``many`` = its container) is a comma list in the environment and a
    repeatable flag whose values are comma lists too (``split=False``: not split, for paths).
    """

    help: str
    env: str | None = None
    flag: str | None = None
    parse: Callable[[str], Any] = str
    check: Check | None = None
    many: type[list[Any]] | type[tuple[Any, ...]] | None = None
    split: bool = True
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    shown_default: str | None = None  # the default in words, where the value itself says little
    details: str = ""  # more for the README table than fits in --help


def setting(default: Any, help: str, **spec: Any) -> Any:
    """A :class:`Settings` field with its :class:`Spec` (``Any``: it stands for the field's default)."""
    meta = {_SPEC: Spec(help=help, **spec)}
    if spec.get("many") is list:  # a mutable default: a fresh list per instance
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


# ---- parsers: one raw string -> value; ValueError says what is wrong with the string


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("is not a number") from None


def _whole(raw: str) -> int:
    value = _number(raw)
    if not value.is_integer():
        raise ValueError("is not a whole number")
    return int(value)


def _episode_ref(raw: str) -> tuple[str, str]:
    bank, _, episode = raw.partition("/")
    if not bank or not episode:
        raise ValueError("is not BANK/EPISODE (e.g. demo-en/demo)")
    return bank, episode


# ---- checks: parsed value -> problem or None


def _between(lo: float, hi: float) -> Check:
    return lambda v: None if lo <= v <= hi else f"must be between {lo:g} and {hi:g}, got {v:g}"


def _at_least(lo: float) -> Check:
    return lambda v: None if v >= lo else f"must be at least {lo:g}, got {v:g}"


def _positive(v: float) -> str | None:
    return None if v > 0 else f"must be greater than 0, got {v:g}"


def _network(value: str) -> str | None:
    """A trusted proxy is an address or network (uvicorn's forwarded_allow_ips syntax), or *."""
    if value == "*":
        return None
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"trusted proxy {value!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
    return None


def _host_name(name: str) -> str | None:
    if name != "*" and (not name or any(c in name for c in "/: ")):
        return f"allowed host {name!r} must be a bare host name (no scheme, port or path), or *"
    return None


def _profile_field(name: str) -> str | None:
    if name not in PROFILE_FIELDS:
        return f"unknown required field {name!r}; choose from {', '.join(PROFILE_FIELDS)}"
    return None


def _token(token: str) -> str | None:
    return None if len(token) >= 12 else "must be at least 12 characters long"


@dataclass
class Settings:
    """Everything a node is configured with. Picklable and JSON-able (``serve --workers`` hands it
    to each worker process); build it with :func:`load` or :func:`merge`, not field by field."""

    host: str = setting("127.0.0.1", "interface to listen on", flag="--host")
    port: int = setting(8000, "port to listen on", flag="--port", parse=_whole, check=_between(0, 65535))
    redis_url: str | None = setting(
        None, "use this Redis (a single server, or any node of a Redis Cluster: detected)",
        env="REDIS_URL", flag="--redis-url", metavar="URL", shown_default="embedded",
        details="; without it a `redis-server` child is started (AOF on)")
    data_dir: Path = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        DEFAULT_DATA_DIR, "where the embedded Redis keeps its data (DATA_DIR/redis)",
                             env="QUIZ_DATA_DIR", flag="--data-dir", parse=Path, metavar="DIR")
    host_token: str | None = setting(
        None, "host API / panel token (at least 12 characters)", env="QUIZ_HOST_TOKEN", flag="--host-token",
        check=_token, metavar="TOKEN", shown_default="generated, printed once, kept in Redis")
    public_url: str | None = setting(
        None, "base URL viewers use, for printed links and the QR code", env="QUIZ_PUBLIC_URL",
        flag="--public-url", metavar="URL", shown_default="`http://HOST:PORT`")
    stream_delay_s: float = setting(
        0.0, "seconds between the overlay and the phones (the stream's latency)", env="QUIZ_STREAM_DELAY",
        flag="--stream-delay", parse=_number, check=_between(0, 120), metavar="SECONDS")
    grace_ms: int = setting(500, "grace after the deadline for answers in flight, in ms", env="QUIZ_GRACE_MS",
                            flag="--grace-ms", parse=_whole, check=_between(0, 5000), metavar="MS")
    max_allowance_ms: int = setting(
        1000, "cap of the delivery allowance for the fan-out's write order, in ms", env="QUIZ_MAX_ALLOWANCE_MS",
        flag="--max-allowance-ms", parse=_whole, check=_between(0, 5000), metavar="MS",
        details=": how much of the server's own fan-out order (its write to a socket − the fan-out start) "
        "a player joined at the release gets back")
    banks: list[Path] = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        DEFAULT_BANKS, "bank file or folder (repeatable)", flag="--bank", parse=Path, many=list,
        split=False, metavar="PATH")
    autoload: tuple[str, str] | None = setting(
        None, "load this episode at start if none is loaded", flag="--load", parse=_episode_ref,
        metavar="BANK/EPISODE", shown_default="none; with `--demo`: `demo-en/demo`")
    demo: bool = setting(False, "serve the packaged demo bank and load its episode (demo-en/demo) at start",
                         flag="--demo")
    required_fields: tuple[str, ...] = setting(
        (), "join fields required besides the display name: full_name,unit,phone", env="QUIZ_REQUIRED_FIELDS",
        flag="--require", many=tuple, check=_profile_field, metavar="FIELDS")
    contest: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None, "also run this online contest (a contest file, docs/contest.md) at /contest", env="QUIZ_CONTEST",
        flag="--contest", parse=Path, metavar="FILE", shown_default="none")
    roster: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None, "the online contest's unit roster (.xlsx or .csv)", env="QUIZ_ROSTER", flag="--roster", parse=Path,
        metavar="FILE", shown_default="none")
    one_prize_per_person: bool = setting(
        True, "one question prize per person per episode, for episodes loaded from now on (--no-one-prize: "
        "a player may win several)", flag="--one-prize")
    workers: int = setting(1, "node processes on this host sharing the port (one per core)", flag="--workers",
                           parse=_whole, check=_between(1, 256), metavar="N")
    log_level: str = setting("info", "how much to log: debug, info, warning or error", flag="--log-level",
                             choices=LOG_LEVELS)
    log_format: str = setting("text", "text, or json: one JSON object per line, for log shippers (tokens are always "
                              "redacted)", flag="--log-format", choices=LOG_FORMATS)
    # empty: same host only (plus no Origin header)
    allowed_origins: tuple[str, ...] = setting(
        (), "WebSocket origins allowed (repeatable)", env="QUIZ_ALLOWED_ORIGINS", flag="--allowed-origin",
        many=tuple, metavar="ORIGIN", shown_default="same host + public URL")
    # proxies whose X-Forwarded-For/-Proto are believed; empty: the headers are ignored
    trusted_proxies: tuple[str, ...] = setting(
        (), "reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto are believed (repeatable)",
        env="QUIZ_TRUSTED_PROXIES", flag="--trusted-proxy", many=tuple, check=_network, metavar="ADDR",
        details="; from anyone else the headers are ignored, so per-address limits count the real peer. "
        "Behind nginx on the same machine: `127.0.0.1` (see `deploy/`)")
    sources: tuple[str, ...] = setting(
        (), "join sources, one per page the show is simulcast on, as TAG=Label (repeatable)",
        env="QUIZ_SOURCES", flag="--source", many=tuple, check=source_problem, metavar="TAG=LABEL",
        details="; each gets its own join link and QR code (`/?src=TAG`) and its own count in the "
        "participation report")
    # Host names served (besides the public URL's, localhost, IP literals, this machine's name)
    allowed_hosts: tuple[str, ...] = setting(
        (), "other Host names served (repeatable; * for any)", env="QUIZ_ALLOWED_HOSTS", flag="--allowed-host",
        many=tuple, check=_host_name, metavar="NAME",
        shown_default="the public URL's host, `localhost`, IP addresses, this machine's name",
        details="; any other gets 400 (DNS rebinding, a QR code pointing elsewhere)")
    header_timeout_s: float = setting(
        10.0, "seconds a new connection has to send its request head (slowloris); then 408 and close",
        env="QUIZ_HEADER_TIMEOUT", parse=_number, check=_between(0.5, 120))
    max_pending: int = setting(
        2048, "connections still without a request head 1 s after connecting, per node; over it: 503",
        env="QUIZ_MAX_PENDING", parse=_whole, check=_at_least(1),
        details=". A crowd connecting at once is never refused by it")
    max_pending_per_ip: int = setting(
        64, "the same per client address (trusted proxies exempt)", env="QUIZ_MAX_PENDING_PER_IP", parse=_whole,
        check=_at_least(1))
    max_buffer_bytes: int = setting(
        256 * 1024, "unsent bytes per socket before it is cut off as a slow consumer (4008)",
        env="QUIZ_MAX_BUFFER", parse=_whole, check=_at_least(1024))
    max_conns_per_ip: int = setting(
        1000, "open WebSockets per client IP per node (0 = unlimited; offices share one NAT address); "
        "over it: close 4009", env="QUIZ_MAX_CONNS_PER_IP", parse=_whole, check=_at_least(0))
    joins_per_ip_per_s: float = setting(
        2.0, "viewer joins per client IP per node, sustained per second; over it: error rate_limited",
        env="QUIZ_JOIN_RATE", parse=_number, check=_positive)
    join_burst_per_ip: float = setting(
        120.0, "viewer joins per client IP per node in a burst (a whole office joining at once)",
        env="QUIZ_JOIN_BURST", parse=_number, check=_positive)
    messages_per_s: float = setting(
        10.0, "frames per socket, sustained per second; over it: error rate_limited, a sustained flood "
        "closes 4009", env="QUIZ_MSG_RATE", parse=_number, check=_positive)
    message_burst: float = setting(30.0, "frames per socket in a burst", env="QUIZ_MSG_BURST", parse=_number,
                                   check=_positive)
    ws_impl: str = setting(
        "fast", "how viewer frames are read: fast = small data frames split by the engine, the rest by "
        "websockets' parser; parser = every frame through websockets' parser", env="QUIZ_WS_IMPL",
        choices=tuple(WS_IMPLS), details=" (the same behaviour; parser costs more CPU per answer)")
    loop: str = setting(
        "auto", "event loop: uvloop (libuv; about half the CPU per socket write), asyncio (the standard "
        "library's), or auto = uvloop where installed (everywhere but Windows)", env="QUIZ_LOOP", choices=LOOPS)
    fanout_threads: int = setting(
        2, "threads that write a large broadcast; 1 = the event loop alone", env="QUIZ_FANOUT_THREADS",
        parse=_whole, check=_between(1, 16),
        details=". The system call per socket is most of a fan-out and runs outside the GIL, so two threads "
        "nearly halve it on two cores; more than the cores a node has does not help")
    # not settable from outside: tests and the engine itself
    fast_answer_ms: int = 300  # answers faster than this are flagged for review
    node_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Defaults < environment (``os.environ`` unless given), validated."""
        return merge(env_layer(os.environ if env is None else env))

    def to_json(self) -> str:
        """For handing the settings to worker processes (``serve --workers``)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str) -> Settings:
        """The inverse of :meth:`to_json`: JSON has no paths or tuples, so rebuild them as declared."""
        data = json.loads(raw)
        for f in fields(cls):
            value, spec = data.get(f.name), _spec(f)
            as_path = spec is not None and spec.parse is Path
            if isinstance(value, list):
                container = spec.many if spec is not None and spec.many else tuple
                data[f.name] = container(Path(v) if as_path else v for v in value)
            elif isinstance(value, str) and as_path:
                data[f.name] = Path(value)
        return cls(**data)

    def validate(self, sources: Mapping[str, str] | None = None) -> None:
        """Raise :class:`ConfigError` for the first value out of bounds, naming where it came from
        (``sources``: field -> env var or flag; else the setting's env var or flag)."""
        for f in fields(self):
            spec = _spec(f)
            value = getattr(self, f.name)
            if spec is None or value is None:
                continue
            where = (sources or {}).get(f.name) or spec.env or spec.flag or f.name
            for item in value if spec.many else (value,):
                problem = _problem(spec, item)
                if problem:  # "--grace-ms must be ...", "--trusted-proxy: trusted proxy 'x' is not ..."
                    raise ConfigError(f"{where}{' ' if problem.startswith('must ') else ': '}{problem}")


def _problem(spec: Spec, value: Any) -> str | None:
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}, got {value!r}"
    return spec.check(value) if spec.check else None


def _spec(f: Field[Any]) -> Spec | None:
    spec = f.metadata.get(_SPEC)
    return spec if isinstance(spec, Spec) else None


def specs() -> list[tuple[Field[Any], Spec]]:
    """Every setting settable from outside, in declaration order."""
    return [(f, spec) for f in fields(Settings) if (spec := _spec(f)) is not None]


def _parse(spec: Spec, raws: Iterable[str], label: str, sep: str) -> Any:
    """One setting's value from its raw string(s) (several only for a repeated flag); a bad one is
    reported as ``QUIZ_GRACE_MS='abc' is not a number`` or ``--grace-ms 'abc' is not a number``."""
    raws = list(raws)
    if spec.many:
        items = [p.strip() for r in raws for p in (r.split(",") if spec.split else [r])]
        raws = [i for i in items if i]
    values = []
    for raw in raws:
        try:
            values.append(spec.parse(raw))
        except ValueError as exc:
            raise ConfigError(f"{label}{sep}{raw!r} {exc}") from None
    return spec.many(values) if spec.many else values[-1]


def env_layer(env: Mapping[str, str], names: Iterable[str] | None = None) -> Layer:
    """The settings the environment gives (an empty variable counts as unset); ``names`` limits it
    to those fields (offline commands must not fail on a server-only variable)."""
    wanted = set(names) if names is not None else None
    layer: Layer = {}
    for f, spec in specs():
        if spec.env is None or (wanted is not None and f.name not in wanted):
            continue
        raw = env.get(spec.env, "")
        if raw != "":
            layer[f.name] = (_parse(spec, [raw], spec.env, "="), spec.env)
    return layer


def cli_layer(args: argparse.Namespace, names: Iterable[str] | None = None) -> Layer:
    """The settings given as flags. Flags added by :func:`add_arguments` default to ``None``, so a
    flag that was not given is absent here and does not override the environment; an empty
    value counts as not given, as in the environment (a repeated flag's ``[""]`` is an empty list)."""
    wanted = set(names) if names is not None else None
    layer: Layer = {}
    for f, spec in specs():
        raw = getattr(args, f.name, None)
        if spec.flag is None or raw is None or (wanted is not None and f.name not in wanted):
            continue
        if raw == "":  # as in the environment, except a list: --require "" means none
            continue
        if isinstance(raw, bool):  # a --x / --no-x flag
            layer[f.name] = (raw, spec.flag)
            continue
        raws = [str(r) for r in raw] if isinstance(raw, list) else [str(raw)]
        layer[f.name] = (_parse(spec, raws, spec.flag, " "), spec.flag)
    return layer


def merge(*layers: Layer) -> Settings:
    """Defaults, then each layer over the one before (pass env before CLI), then validation of the
    values in effect, naming the layer each came from. The one place where the layers meet."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        for name, (value, where) in layer.items():
            values[name], sources[name] = value, where
    settings = replace(Settings(), **values)
    settings.validate(sources)
    return settings


def add_arguments(parser: argparse.ArgumentParser, names: Iterable[str] | None = None) -> None:
    """Declare the flag of every setting that has one (or of ``names`` only). Each defaults to
    ``None`` — the real default is applied by :func:`merge` — so "not given" stays visible."""
    wanted = set(names) if names is not None else None
    for f, spec in specs():
        if spec.flag is None or (wanted is not None and f.name not in wanted):
            continue
        shown = _shown_default(f, spec).replace("`", "")
        where = f" (default {shown}" + (f"; env {spec.env})" if spec.env else ")")
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": (spec.help + where).replace("%", "%%")}
        if isinstance(f.default, bool):  # --x / --no-x: either can override the environment
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = spec.metavar or ("{" + ",".join(spec.choices) + "}" if spec.choices else None)
            if spec.many:
                kwargs["action"] = "append"
        parser.add_argument(spec.flag, **kwargs)


def env_only() -> list[str]:
    """The environment variables without a flag (for ``serve --help``)."""
    return [spec.env for _, spec in specs() if spec.env and not spec.flag]


def load(env: Mapping[str, str], argv: Sequence[str] = ()) -> Settings:
    """Settings from an environment and ``serve``'s flags (without the command name), validated."""
    parser = argparse.ArgumentParser(prog="quiz-engine serve", add_help=False)
    add_arguments(parser)
    args = parser.parse_args(list(argv))
    return merge(env_layer(env), cli_layer(args))


# ---- README


def _shown_default(f: Field[Any], spec: Spec) -> str:
    """The default as README and ``--help`` state it (markdown: code in backticks)."""
    if spec.shown_default is not None:
        return spec.shown_default
    default = getattr(Settings(), f.name)
    if isinstance(default, bool):
        return "off" if not default else "on"
    if default is None or default == ():
        return "none"
    if isinstance(default, float):
        shown = f"{default:g}"
    elif isinstance(default, Path):
        shown = f"./{default}"
    elif isinstance(default, list):
        shown = ", ".join(f"./{d}" for d in default)
    else:
        shown = str(default)
    return f"`{shown}`"


def readme_table() -> str:
    """README's Configuration table, one row per setting, generated from the declarations."""
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for f, spec in specs():
        cells = [f"`{spec.flag}`" if spec.flag else "", f"`{spec.env}`" if spec.env else "",
                 _shown_default(f, spec), spec.help + spec.details]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


README_BEGIN = "<!-- settings table: generated by `python -m quiz_engine.config README.md` -->\n"
README_END = "<!-- end of settings table -->\n"


def with_readme_table(readme: str) -> str:
    """``readme`` with its generated settings table replaced by the current one."""
    head, begin, rest = readme.partition(README_BEGIN)
    _, end, tail = rest.partition(README_END)
    if not begin or not end:
        raise ValueError("README has no settings table markers")
    return head + begin + readme_table() + end + tail


if __name__ == "__main__":  # python -m quiz_engine.config [README.md]: print or rewrite the table
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
        path.write_text(with_readme_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(readme_table())
