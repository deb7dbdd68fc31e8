"""The ``quiz-engine`` command: serve, bank, results, participation, season, verify, audit, claim."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from quiz_engine import __version__
from quiz_engine.config import DEFAULT_BANKS, add_arguments, cli_layer, env_layer, env_only, merge
from quiz_engine.errors import BankError, ConfigError, QuizError, RedisUnavailable
from quiz_engine.logs import log_config
from quiz_engine.redis_server import EmbeddedRedis, register_server, running_embedded, running_servers
from quiz_engine.store.redis_store import Store

log = logging.getLogger("quiz_engine")


def _redis_dir(data_dir: Path) -> Path:
    return data_dir / "redis"


OFFLINE_SETTINGS = ("data_dir", "redis_url")  # the settings offline commands take (same flags, same env)


def _offline_redis_url(args: argparse.Namespace) -> tuple[str | None, Path]:
    """The Redis an offline command should use, in the README's order: --redis-url, $REDIS_URL,
    the embedded Redis of a server running on the data directory, else (no data directory given
    by flag or env) the one server running on this machine; (None, data dir) means start one on
    the data dir."""
    given = {**env_layer(os.environ, OFFLINE_SETTINGS), **cli_layer(args, OFFLINE_SETTINGS)}
    settings = merge(given)
    data_dir = settings.data_dir
    url = settings.redis_url or running_embedded(_redis_dir(data_dir))
    if url or "data_dir" in given or _redis_dir(data_dir).exists():
        return url, data_dir
    running = running_servers()
    if len(running) == 1:
        print(f"using the running server's Redis ({running[0][1]}, data in {running[0][0]})", file=sys.stderr)
        return running[0][1], data_dir
    if len(running) > 1:
        listing = ", ".join(str(d.parent) for d, _ in running)
        raise ConfigError(f"several servers are running (data dirs: {listing}); give --data-dir or --redis-url")
    return None, data_dir


@contextlib.asynccontextmanager
async def _store(args: argparse.Namespace) -> AsyncIterator[Store]:
    """Redis for offline commands (see ``_offline_redis_url``); a temporary embedded one on the
    data directory when no server is running."""
    url, data_dir = _offline_redis_url(args)
    embedded = None
    if url is None:
        if not _redis_dir(data_dir).exists():
            raise ConfigError(f"no data in {data_dir}: no server is running here; give --data-dir or REDIS_URL")
        embedded = EmbeddedRedis(_redis_dir(data_dir))
        url = embedded.start()
    store = Store.from_url(url)
    try:
        await store.ping()
        yield store
    finally:
        await store.close()
        if embedded is not None:
            embedded.stop()


async def _results(args: argparse.Namespace) -> int:
    from quiz_engine.reports.cli import results_command

    return await results_command(args)


async def _verify(args: argparse.Namespace) -> int:
    from quiz_engine.verify import verify

    async with _store(args) as store:
        result = await verify(store, args.episode, args.one_prize)
    diffs = result.differences
    for note in result.notes:
        print(f"note: {note}")
    if diffs:
        print(f"DIFFERENCES in {args.episode}: {len(diffs)}")
        for d in diffs:
            print(f"  - {d}")
        return 1
    print(f"OK: {args.episode}: every stored result matches the audit stream, and every response time "
          "follows the timing rule")
    return 0


async def _claim(args: argparse.Namespace) -> int:
    from quiz_engine import prize_desk
    from quiz_engine.reports.tables import handover_time

    actor = f"cli:{args.by}" if args.by else "cli"
    async with _store(args) as store:
        loaded = (await store.show()).get("episode") or None
        if args.handover:
            result = await prize_desk.hand_over(store, args.code, actor, episode=args.episode, loaded=loaded,
                                                note=args.note or "")
        else:
            result = await prize_desk.check(store, args.code, actor, episode=args.episode, loaded=loaded)
    holder = result.holder
    if holder:
        what = "the episode prize" if result.prize == "episode" else f"the prize of question {result.prize[1:]}"
        print(f"{result.check}: {what} of {result.episode}")
        print(f"  holder: {holder.get('full_name') or holder.get('name')} (#{holder.get('tag')}), "
              f"unit: {holder.get('unit') or '-'}, phone: {holder.get('phone') or '-'}")
    if result.handed_over:
        h = result.handed_over
        print(f"  handed over by {h.get('by')} at {handover_time(h.get('at'))}"
              + (f": {h['note']}" if h.get("note") else ""))
    if not result.ok:
        print(f"REFUSED ({result.reason}): {result.message}")
        return 1
    if not args.handover:
        print("OK: the code is valid" + (" (already handed over)" if result.handed_over else
                                         "; add --handover to record that the prize was given"))
    else:
        print("OK: handover recorded")
    return 0


async def _audit(args: argparse.Namespace) -> int:
    from quiz_engine.reports.cli import audit_command

    return await audit_command(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from quiz_engine import metrics
    from quiz_engine.library import BankLibrary
    from quiz_engine.web.app import create_app

    settings = merge(env_layer(os.environ), cli_layer(args))  # defaults < environment < flags
    if settings.workers > 1:
        metrics.share_across_workers(settings.data_dir.resolve() / "metrics")
    if settings.demo:
        settings.banks = _with_demo_bank(settings.banks)
        settings.autoload = settings.autoload or ("demo-en", "demo")
    library = BankLibrary(settings.banks)
    if settings.autoload:
        bank, episode = settings.autoload
        library.bank(bank).episode(episode)  # fail now, not after start
    embedded = None
    registered: Path | None = None
    url = settings.redis_url
    if url is None:
        embedded = EmbeddedRedis(_redis_dir(settings.data_dir))
        url = embedded.start()
        print(f"embedded Redis on 127.0.0.1:{embedded.port}, data in {embedded.data_dir} (AOF)", flush=True)
        registered = register_server(embedded)  # offline commands from any folder find it
    from quiz_engine.web.frontdoor import Protocols
    from quiz_engine.web.wsserver import KeptAliveUpgrade

    common: dict[str, Any] = {
        "host": settings.host,
        "http": Protocols(settings),  # request-head deadline and caps before uvicorn's HTTP parser
        # X-Forwarded-For/-Proto only from the configured proxies (uvicorn trusts 127.0.0.1 by default)
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or "127.0.0.1",
        "port": settings.port,
        # the front door hands WebSockets to web/wsserver.py; an upgrade on a kept-alive
        # connection (a proxy's upstream pool) reaches it through uvicorn's ws class
        "ws": KeptAliveUpgrade,
        "loop": settings.loop,
        "lifespan": "on",
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": 5,
        "backlog": 4096,
        "log_config": log_config(settings.log_level, settings.log_format),
    }
    # uvicorn re-raises SIGTERM after its graceful shutdown; make that a clean exit so the
    # embedded Redis below is always shut down (and its AOF fsynced) too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if settings.workers > 1:
            # N processes share one listening socket; each is a full node on the same Redis.
            from uvicorn.supervisors import Multiprocess

            os.environ["QUIZ_SETTINGS_JSON"] = settings.to_json()
            os.environ["QUIZ_WORKER_REDIS_URL"] = url
            config = uvicorn.Config("quiz_engine.web.app:app_from_env", factory=True, workers=settings.workers,
                                   **common)
            Multiprocess(config, sockets=[_listen(config)]).run()
        else:
            config = uvicorn.Config(create_app(settings, url, library), **common)
            uvicorn.Server(config).run(sockets=[_listen(config)])
    finally:
        if embedded is not None:
            embedded.stop()
        if registered is not None:
            with contextlib.suppress(OSError):
                registered.unlink()
    return 0


def _with_demo_bank(banks: list[Path]) -> list[Path]:
    """``--demo`` works from any folder: the bank folders that exist, plus the packaged demo
    bank unless one of them already has it (the default ./question_banks of a checkout does)."""
    from quiz_engine.assets import DEMO_BANK_FILE, demo_bank

    present = [b for b in banks if b.exists() or b not in DEFAULT_BANKS]  # only the default may be absent
    if any(b.name == DEMO_BANK_FILE or (b / DEMO_BANK_FILE).is_file() for b in present):
        return present
    return [*present, demo_bank()]


KERNEL_SNDBUF = 64 * 1024


def _listen(config: Any) -> socket.socket:
    """The listening socket, with a capped kernel send buffer that every accepted connection
    inherits. Left to autotuning, Linux grows it up to tcp_wmem's max (4 MiB) for a client
    that never reads, so a dead socket would hold megabytes before the hub's slow-consumer
    cut-off (max_buffer) even starts counting; capped, it holds about 2 x 64 KiB (the kernel
    doubles the value)."""
    sock: socket.socket = config.bind_socket()
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SNDBUF)
    return sock


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quiz-engine", description="Real-time livestream quiz engine.")
    parser.add_argument("--version", action="version", version=f"quiz-engine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common_redis(p: argparse.ArgumentParser) -> None:
        add_arguments(p, OFFLINE_SETTINGS)

    serve = sub.add_parser(
        "serve",
        help="run the server",
        description=(
            "Run a server node. Without --redis-url/REDIS_URL it starts an embedded redis-server "
            "with AOF persistence in DATA_DIR/redis and stops it on exit."
        ),
        epilog="Also read from the environment (README, Configuration): " + ", ".join(env_only()) + ".",
    )
    add_arguments(serve)  # every flag from quiz_engine.config's declarations
    serve.set_defaults(func=_serve)

    from quiz_engine.reports.cli import add_report_arguments, add_report_commands

    results = sub.add_parser(
        "results",
        help="winners report of an episode or a season",
        description="Question winners (with reserves), standings and disqualifications of an episode, or with "
        "--season BANK of every created episode of a bank plus episode prizes and season standings.",
    )
    add_report_arguments(results, winners=True)
    results.add_argument("--reserves", type=int, default=3, help="reserves per question (default 3)")
    results.add_argument(
        "--one-prize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="override the prize rule each episode was played under (one question prize per person)",
    )
    common_redis(results)
    results.set_defaults(func=_async(_results))

    verify = sub.add_parser(
        "verify",
        help="recompute results from the audit stream",
        description="Replay the audit stream and compare with stored results; exit 1 on any difference.",
    )
    verify.add_argument("episode")
    verify.add_argument("--one-prize", action=argparse.BooleanOptionalAction, default=None,
                        help="recompute the winners under this prize rule instead of the one the audit recorded")
    common_redis(verify)
    verify.set_defaults(func=_async(_verify))

    audit = sub.add_parser(
        "audit",
        help="every answer to one question, in arrival order",
        description="Print every answer to a question in Redis arrival order, with response time and decision.",
    )
    audit.add_argument("episode")
    audit.add_argument("question", type=int, help="question number, 1-based")
    audit.add_argument("--format", choices=["text", "csv"], default="text")
    audit.add_argument("-o", "--output", help="write to this file instead of stdout")
    common_redis(audit)
    audit.set_defaults(func=_async(_audit))

    claim = sub.add_parser(
        "claim",
        help="check a prize claim code (and record the handover)",
        description="Check the claim code a winner's phone shows: which prize of which episode, and whose. "
        "With --handover, record that the prize was given (once; a wrong or reused code is refused and "
        "audited). Exit 1 when refused.",
    )
    claim.add_argument("code", help="the code as read out or scanned, e.g. K7QM2-X9ABC (case and dashes ignored)")
    claim.add_argument("--episode", help="the episode (default: the loaded one, then every other)")
    claim.add_argument("--handover", action="store_true", help="record that the prize was handed over")
    claim.add_argument("--by", help="who hands it over (recorded in the audit)")
    claim.add_argument("--note", help="a note kept with the handover, e.g. 'ID card checked'")
    common_redis(claim)
    claim.set_defaults(func=_async(_claim))

    try:
        from quiz_engine.banks.cli import add_bank_commands
    except ImportError:  # pragma: no cover - banks package missing
        pass
    else:
        add_bank_commands(sub)
    add_report_commands(sub, common_redis, _async)
    from quiz_engine.contest.cli import add_contest_commands

    add_contest_commands(sub, common_redis)
    return parser


def _async(fn: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return int(asyncio.run(fn(args)))

    return run


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BankError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except (ConfigError, RedisUnavailable, QuizError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
