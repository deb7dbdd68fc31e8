"""The layered configuration: defaults < environment < command line, from one declaration."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from quiz_engine import metrics
from quiz_engine.cli import OFFLINE_SETTINGS, build_parser
from quiz_engine.config import (
    README_BEGIN,
    README_END,
    WS_IMPLS,
    Settings,
    cli_layer,
    env_layer,
    load,
    merge,
    readme_table,
    specs,
)
from quiz_engine.errors import ConfigError
from tests.conftest import ROOT

_OTHER_WS_IMPL = next(i for i in WS_IMPLS if i != Settings().ws_impl)  # (being replaced elsewhere)

# a valid, non-default raw value per setting and what it parses to (every setting needs one)
SAMPLES: dict[str, tuple[str, Any]] = {
    "host": ("0.0.0.0", "0.0.0.0"),
    "port": ("9001", 9001),
    "redis_url": ("redis://10.0.0.5:6379/1", "redis://10.0.0.5:6379/1"),
    "data_dir": ("/var/lib/quiz", Path("/var/lib/quiz")),
    "host_token": ("a-long-enough-secret", "a-long-enough-secret"),
    "public_url": ("https://quiz.example.org", "https://quiz.example.org"),
    "stream_delay_s": ("12.5", 12.5),
    "grace_ms": ("250", 250),
    "max_allowance_ms": ("800", 800),
    "banks": ("/banks", [Path("/banks")]),
    "autoload": ("cchc-2026/tap-1", ("cchc-2026", "tap-1")),
    "demo": ("", True),
    "required_fields": ("full_name, unit", ("full_name", "unit")),
    "contest": ("/c/online.contest.toml", Path("/c/online.contest.toml")),
    "roster": ("/c/roster.xlsx", Path("/c/roster.xlsx")),
    "one_prize_per_person": ("", False),
    "workers": ("2", 2),
    "log_level": ("debug", "debug"),
    "log_format": ("json", "json"),
    "allowed_origins": ("https://a.example,https://b.example", ("https://a.example", "https://b.example")),
    "trusted_proxies": ("127.0.0.1,10.0.0.0/8", ("127.0.0.1", "10.0.0.0/8")),
    "allowed_hosts": ("quiz.example.org", ("quiz.example.org",)),
    "sources": ("vtv=Fanpage VTV,nd=Báo Nhân Dân", ("vtv=Fanpage VTV", "nd=Báo Nhân Dân")),
    "header_timeout_s": ("2", 2.0),
    "max_pending": ("100", 100),
    "max_pending_per_ip": ("5", 5),
    "max_buffer_bytes": ("65536", 65536),
    "max_conns_per_ip": ("0", 0),
    "joins_per_ip_per_s": ("0.5", 0.5),
    "join_burst_per_ip": ("10", 10.0),
    "messages_per_s": ("1000000", 1000000.0),
    "message_burst": ("5", 5.0),
    "ws_impl": (_OTHER_WS_IMPL, _OTHER_WS_IMPL),
    "loop": ("asyncio", "asyncio"),
    "fanout_threads": ("1", 1),
}


def _argv(flag: str, raw: str, default: Any = None) -> list[str]:
    if raw == "":  # a --x / --no-x flag takes no value: the one that differs from the default
        return [flag.replace("--", "--no-", 1)] if default is True else [flag]
    return [flag, raw]


def _serve_args(*argv: str) -> Any:
    return build_parser().parse_args(["serve", *argv])


def test_every_setting_has_a_sample_and_samples_differ_from_defaults() -> None:
    assert {f.name for f, _ in specs()} == set(SAMPLES)
    assert {f.name for f, spec in specs() if spec.flag and spec.env} == set(OTHERS)
    defaults = Settings()
    for name, (_, value) in SAMPLES.items():
        assert getattr(defaults, name) != value, name


@pytest.mark.parametrize("name", [f.name for f, spec in specs() if spec.env])
def test_env_beats_default(name: str) -> None:
    spec = next(s for f, s in specs() if f.name == name)
    assert spec.env
    raw, value = SAMPLES[name]
    assert getattr(load({spec.env: raw}), name) == value
    assert getattr(load({spec.env: ""}), name) == getattr(Settings(), name)  # empty = unset


# a second value for the settings with both an env var and a flag: the flag's, over SAMPLES' in the env
OTHERS: dict[str, tuple[str, Any]] = {
    "redis_url": ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/0"),
    "data_dir": ("/elsewhere", Path("/elsewhere")),
    "contest": ("/d/other.contest.toml", Path("/d/other.contest.toml")),
    "roster": ("/d/roster.csv", Path("/d/roster.csv")),
    "host_token": ("another-long-secret", "another-long-secret"),
    "public_url": ("https://other.example", "https://other.example"),
    "stream_delay_s": ("3", 3.0),
    "grace_ms": ("10", 10),
    "max_allowance_ms": ("0", 0),
    "required_fields": ("phone", ("phone",)),
    "allowed_origins": ("https://c.example", ("https://c.example",)),
    "trusted_proxies": ("::1", ("::1",)),
    "allowed_hosts": ("other.example", ("other.example",)),
    "sources": ("hue=Cổng TTĐT Huế", ("hue=Cổng TTĐT Huế",)),
}


@pytest.mark.parametrize("name", [f.name for f, spec in specs() if spec.flag])
def test_flag_beats_default(name: str) -> None:
    spec = next(s for f, s in specs() if f.name == name)
    assert spec.flag
    raw, value = SAMPLES[name]
    assert getattr(load({}, _argv(spec.flag, raw, getattr(Settings(), name))), name) == value


@pytest.mark.parametrize("name", [f.name for f, spec in specs() if spec.flag and spec.env])
def test_flag_beats_env_through_the_serve_parser(name: str) -> None:
    spec = next(s for f, s in specs() if f.name == name)
    assert spec.flag and spec.env
    (env_raw, env_value), (flag_raw, flag_value) = SAMPLES[name], OTHERS[name]
    assert env_value != flag_value
    settings = merge(env_layer({spec.env: env_raw}), cli_layer(_serve_args(spec.flag, flag_raw)))
    assert getattr(settings, name) == flag_value


def test_an_absent_flag_does_not_clobber_the_env_value() -> None:
    """argparse's defaults would overwrite the environment if they were real values: every
    setting flag of `serve` defaults to None, so a bare `serve` adds nothing over the env."""
    args = _serve_args()
    assert cli_layer(args) == {}
    env = {spec.env: SAMPLES[f.name][0] for f, spec in specs() if spec.env}
    settings = merge(env_layer(env), cli_layer(args))
    for f, spec in specs():
        if spec.env:
            assert getattr(settings, f.name) == SAMPLES[f.name][1], f.name
    # and unrelated flags leave the others alone
    one = merge(env_layer(env), cli_layer(_serve_args("--port", "9100", "--demo")))
    assert (one.port, one.demo, one.grace_ms, one.stream_delay_s) == (9100, True, 250, 12.5)


def test_lists_from_env_and_repeated_flags() -> None:
    assert load({}, ["--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8,::1"]).trusted_proxies == (
        "127.0.0.1", "10.0.0.0/8", "::1")
    assert load({"QUIZ_REQUIRED_FIELDS": "unit"}, ["--require", "full_name,phone"]).required_fields == (
        "full_name", "phone")
    assert load({"QUIZ_REQUIRED_FIELDS": "unit"}, ["--require", ""]).required_fields == ()  # explicitly none
    assert load({}, ["--bank", "a,b", "--bank", "c"]).banks == [Path("a,b"), Path("c")]  # paths are not split
    assert load({"QUIZ_HOST_TOKEN": "from-the-environment"}, ["--host-token", ""]).host_token == "from-the-environment"
    assert Settings().banks is not Settings().banks


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"QUIZ_GRACE_MS": "abc"}, [], "QUIZ_GRACE_MS='abc' is not a number"),
        ({}, ["--grace-ms", "abc"], "--grace-ms 'abc' is not a number"),
        ({}, ["--grace-ms", "9000"], "--grace-ms must be between 0 and 5000, got 9000"),
        ({"QUIZ_GRACE_MS": "9000"}, [], "QUIZ_GRACE_MS must be between 0 and 5000, got 9000"),
        ({}, ["--grace-ms", "1.5"], "--grace-ms '1.5' is not a whole number"),
        ({"QUIZ_STREAM_DELAY": "500"}, [], "QUIZ_STREAM_DELAY must be between 0 and 120, got 500"),
        ({"QUIZ_MSG_RATE": "0"}, [], "QUIZ_MSG_RATE must be greater than 0, got 0"),
        ({"QUIZ_MAX_BUFFER": "10"}, [], "QUIZ_MAX_BUFFER must be at least 1024, got 10"),
        ({"QUIZ_LOOP": "trio"}, [], "QUIZ_LOOP must be one of auto, uvloop, asyncio, got 'trio'"),
        ({"QUIZ_WS_IMPL": "tornado"}, [], "QUIZ_WS_IMPL must be one of"),
        ({}, ["--workers", "0"], "--workers must be between 1 and 256, got 0"),
        ({}, ["--trusted-proxy", "nginx.local"],
         "--trusted-proxy: trusted proxy 'nginx.local' is not an IP address or network"),
        ({"QUIZ_REQUIRED_FIELDS": "full_name,age"}, [], "QUIZ_REQUIRED_FIELDS: unknown required field 'age'"),
        ({}, ["--allowed-host", "https://x.example"], "--allowed-host: allowed host 'https://x.example' must be"),
        ({"QUIZ_HOST_TOKEN": "short"}, [], "QUIZ_HOST_TOKEN must be at least 12 characters long"),
        ({}, ["--load", "demo-en"], "--load 'demo-en' is not BANK/EPISODE"),
    ],
)
def test_errors_name_the_source(env: dict[str, str], argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(env, argv)
    assert message in str(caught.value)


def test_the_effective_value_is_the_one_checked() -> None:
    """An out-of-range env value that a flag overrides does not stop the server."""
    assert load({"QUIZ_GRACE_MS": "9000"}, ["--grace-ms", "100"]).grace_ms == 100


def test_validate_without_sources_names_the_env_var() -> None:
    with pytest.raises(ConfigError, match="QUIZ_FANOUT_THREADS must be between 1 and 16, got 0"):
        Settings(fanout_threads=0).validate()


def test_offline_commands_read_only_their_settings() -> None:
    """`verify` must not fail on a server-only variable, and takes --data-dir/$QUIZ_DATA_DIR as serve does."""
    env = {"QUIZ_GRACE_MS": "abc", "QUIZ_DATA_DIR": "/srv/quiz"}
    assert env_layer(env, OFFLINE_SETTINGS) == {"data_dir": (Path("/srv/quiz"), "QUIZ_DATA_DIR")}
    args = build_parser().parse_args(["verify", "demo-en.demo"])
    assert cli_layer(args, OFFLINE_SETTINGS) == {}
    args = build_parser().parse_args(["verify", "demo-en.demo", "--data-dir", "/tmp/d"])
    assert merge(env_layer(env, OFFLINE_SETTINGS), cli_layer(args, OFFLINE_SETTINGS)).data_dir == Path("/tmp/d")


def test_settings_survive_json_and_pickle() -> None:
    """``serve --workers`` hands the settings to each worker as JSON."""
    settings = merge({name: (value, "test") for name, (_, value) in SAMPLES.items()})
    settings.node_id = "node-7"
    assert Settings.from_json(settings.to_json()) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert Settings.from_json(Settings().to_json()) == Settings()


def test_readme_table_is_generated_from_the_declarations() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_BEGIN in readme and README_END in readme
    current = readme.split(README_BEGIN)[1].split(README_END)[0]
    assert current == readme_table(), "README is stale: run .venv/bin/python -m quiz_engine.config README.md"
    rows = current.splitlines()[2:]
    assert len(rows) == len(specs())
    for (f, spec), row in zip(specs(), rows, strict=True):
        for name in (spec.env, spec.flag):
            assert name is None or f"`{name}`" in row, (f.name, row)
    assert "| `--grace-ms` | `QUIZ_GRACE_MS` | `500` |" in current


def test_serve_help_lists_every_setting() -> None:
    out = subprocess.run([sys.executable, "-m", "quiz_engine", "serve", "--help"], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    for _, spec in specs():
        for name in (spec.env, spec.flag):
            assert name is None or name in text, name
    assert "(default 500; env QUIZ_GRACE_MS)" in text


def test_metrics_multiprocess_mode_is_set_up_for_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent prepares the directory and the variable; a worker started after it records into
    the shared files and /metrics sums them. This process is not switched."""
    # setenv first so that monkeypatch restores the variable's absence after the test (a bare
    # delenv of an absent variable records nothing, and the value set below would leak into
    # every server the later tests start)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "stale.db").write_bytes(b"old")
    metrics.share_across_workers(shared)
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(shared) and list(shared.iterdir()) == []
    assert not metrics.multiprocess()
    worker = ("from quiz_engine import metrics; metrics.CONNECTED.labels('viewer').inc(3); "
              "print(metrics.multiprocess(), b'quiz_connections{role=\"viewer\"} 3.0' in metrics.render())")
    out = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env=dict(os.environ))
    assert out.stdout.split() == ["True", "True"], out.stderr
