"""A drop-in for users of the original router, v0.1.6 through the 0.2.x line:
the same effective configuration from every front door, the 0.2.x Python
surface, its flags with their defaults, and the features it refuses."""

import json
import os
import subprocess
import sys

import pytest
from helpers import http, wait_until

from sglang_router import PolicyType, Router
from sglang_router.launch_router import parse_router_args
from sglang_router.router import policy_from_str as policy_from_str_02
from sglang_router.router_args import RouterArgs

# Flags new in the original's 0.2.x line, with that line's defaults (read
# from its router_args.py). v0.1.6 flags keep v0.1.6's defaults.
DEFAULTS_0_2 = {
    "retry_max_retries": 5, "retry_initial_backoff_ms": 50, "retry_max_backoff_ms": 30000,
    "retry_backoff_multiplier": 1.5, "retry_jitter_factor": 0.2, "cb_failure_threshold": 10,
    "cb_success_threshold": 3, "cb_timeout_duration_secs": 60, "cb_window_duration_secs": 120,
    "health_failure_threshold": 3, "health_success_threshold": 2, "health_check_timeout_secs": 5,
    "health_check_endpoint": "/health", "max_concurrent_requests": -1, "queue_size": 100,
    "queue_timeout_secs": 60, "rate_limit_tokens_per_second": None, "cors_allowed_origins": [],
    "mini_lb": False, "enable_igw": False, "backend": "sglang", "history_backend": "memory",
    "model_path": None, "tokenizer_path": None, "chat_template": None, "reasoning_parser": None,
    "tool_call_parser": None, "tokenizer_cache_enable_l0": False, "tokenizer_cache_l0_max_entries": 10000,
    "tokenizer_cache_enable_l1": False, "tokenizer_cache_l1_max_memory": 50 * 1024 * 1024,
    "mcp_config_path": None, "client_cert_path": None, "client_key_path": None, "ca_cert_paths": [],
    "enable_trace": False, "otlp_traces_endpoint": "localhost:4317", "bucket_adjust_interval_secs": 5,
    "oracle_pool_min": 1, "oracle_pool_max": 16, "oracle_pool_timeout_secs": 30, "postgres_pool_max": 16,
}


@pytest.mark.parametrize("field,default", sorted(DEFAULTS_0_2.items()))
def test_02x_flag_defaults(field, default):
    assert getattr(parse_router_args([]), field) == default
    assert getattr(RouterArgs(), field) == default


def test_02x_python_surface():
    args = RouterArgs(worker_urls=["http://w:1"], policy="round_robin", eviction_interval_secs=7)
    r = Router.from_args(args)
    assert isinstance(r, Router)
    assert r.config == {"worker_urls": ["http://w:1"], "port": 30000, "eviction_interval_secs": 7}
    assert RouterArgs._parse_selector(["app=x", "tier=a=b"]) == {"app": "x", "tier": "a=b"}
    assert RouterArgs._parse_selector(["app=x tier=1"]) == {"app": "x", "tier": "1"}  # YAML one-liner
    assert RouterArgs._parse_selector(["app"]) == {}  # the helper skips, as the original's; the CLI refuses
    assert RouterArgs._parse_prefill_urls([["http://p:1", "9000"], ["http://p:2", "none"], ["http://p:3"]]) == [
        ("http://p:1", 9000), ("http://p:2", None), ("http://p:3", None)]
    assert RouterArgs._parse_decode_urls([["http://d:1"], ["http://d:2"]]) == ["http://d:1", "http://d:2"]
    assert policy_from_str_02("power_of_two") is PolicyType.PowerOfTwo
    with pytest.raises(KeyError):
        policy_from_str_02("bucket")


def test_v016_eviction_interval_name_still_works():
    assert RouterArgs(eviction_interval=9).eviction_interval_secs == 9
    assert RouterArgs(eviction_interval_secs=8).eviction_interval == 8
    assert parse_router_args(["--eviction-interval", "5"]).router_kwargs()["eviction_interval_secs"] == 5


def test_02x_namespace_from_its_own_parser_shape():
    """0.2.x scripts build RouterArgs from namespaces with its attribute names."""
    import argparse

    ns = argparse.Namespace(worker_urls=["http://w:1"], host="0.0.0.0", port=8000, policy="random",
                            eviction_interval_secs=30, retry_backoff_multiplier=2.0, prefill=None,
                            decode=None, selector=None, prefill_selector=None, decode_selector=None)
    args = RouterArgs.from_cli_args(ns)
    assert (args.eviction_interval_secs, args.retry_backoff_multiplier, args.selector) == (30, 2.0, {})


# ----- one effective configuration through every front door -----

CASES = [
    [],
    ["--worker-urls", "http://a:1", "http://b:2", "--policy", "round_robin", "--port", "4000"],
    ["--worker-urls", "http://a:1", "--request-id-headers", "x-mine", "--verbose",
     "--selector", "app=x", "--eviction-interval", "9", "--retry-jitter-factor", "0.5"],
    ["--pd-disaggregation", "--prefill", "http://p:1", "8998", "--prefill", "http://p:2", "none",
     "--decode", "http://d:1", "--prefill-policy", "cache_aware", "--decode-policy", "round_robin"],
    ["--worker-urls", "http://a:1", "--cors-allowed-origins", "--max-concurrent-requests", "8",
     "--model-path", "org/m", "--health-check-endpoint", "/ready", "--ca-cert-paths", "/x.pem"],
]


def _binary_config(argv):
    """The binary's effective configuration (bin/sglang-router, else the
    same Go command run in-process by the installed console script)."""
    binary = os.environ.get("SGLANG_ROUTER_BIN")
    cmd = [binary] if binary and os.path.exists(binary) else [console_script("sglang-router")]
    out = subprocess.run(cmd + ["--print-config", *argv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def console_script(name):
    """The console script installed beside the Python running the tests."""
    return os.path.join(os.path.dirname(sys.executable), name)


def _router_kwargs(argv):
    """Router(...) keywords for the same inputs, written by hand."""
    kw = parse_router_args(argv).router_kwargs()
    return {k: v for k, v in kw.items()}


@pytest.mark.native
@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c) or "defaults" for c in CASES])
def test_binary_launch_router_and_router_give_one_config(argv):
    binary = _binary_config(argv)
    via_launch_router = Router.from_args(parse_router_args(argv)).effective_config()
    via_router = Router(**_router_kwargs(argv)).effective_config()
    assert via_launch_router == binary
    assert via_router == binary


@pytest.mark.native
def test_router_class_defaults_match_go_with_nothing_sent():
    cfg = Router(worker_urls=[]).effective_config()
    assert cfg["request_id_headers"] == ["x-request-id", "x-correlation-id", "x-trace-id", "request-id"]
    assert (cfg["port"], cfg["policy"]) == (3001, "round_robin")


# ----- request ids honoured through Python (null used to clear the list) -----


@pytest.mark.native
@pytest.mark.parametrize("front", ["router", "launch_router"])
def test_client_request_id_is_honoured_through_python(front, fake_worker, free_port):
    w = fake_worker("w0")
    port, metrics = free_port(), free_port()
    if front == "router":
        r = Router(worker_urls=[w.url], port=port, prometheus_port=metrics, worker_startup_check_interval=1)
    else:
        r = Router.from_args(parse_router_args(["--worker-urls", w.url, "--port", str(port),
                                                "--prometheus-port", str(metrics)]))
    with r.serve_in_background():
        assert wait_until(lambda: http("GET", r.url + "/readiness")[0] == 200, timeout=15)
        status, _, headers = http("POST", r.url + "/generate", {"text": "hi"}, headers={"x-request-id": "abc-123"})
        assert status == 200
        assert {k.lower(): v for k, v in headers.items()}["x-request-id"] == "abc-123"


# ----- v0.1.6 behaviours -----


@pytest.mark.native
def test_health_with_no_workers_is_200(free_port):
    """A router started for discovery or before /add_worker: scripts wait for /health."""
    with Router(worker_urls=[], port=free_port(), prometheus_port=free_port()).serve_in_background() as r:
        status, body, _ = http("GET", r.url + "/health")
        assert (status, body) == (200, b"All servers healthy")
        assert http("GET", r.url + "/readiness")[0] == 503


# ----- features of the 0.2.x line this router does not have are refused -----

REFUSED = {
    "enable_igw": (True, "IGW"),
    "backend": ("openai", "OpenAI-compatible"),
    "history_backend": ("oracle", "not supported"),
    "mcp_config_path": ("/m.yaml", "MCP"),
    "enable_trace": (True, "OpenTelemetry"),
    "prefill_policy": ("bucket", "bucket policy"),
    "worker_urls": (["grpc://w:1"], "grpc://"),
}


@pytest.mark.native
@pytest.mark.parametrize("key", sorted(REFUSED))
def test_missing_features_are_refused_with_a_reason(key):
    value, reason = REFUSED[key]
    kw = {"worker_urls": []}
    kw[key] = value
    with pytest.raises(ValueError, match=reason):
        Router(**kw).effective_config()


def test_refused_flags_fail_the_command_line_with_the_reason(capsys):
    from sglang_router.launch_router import main

    with pytest.raises(SystemExit) as e:
        main(["--enable-igw"])
    assert e.value.code == 2
    assert "IGW" in capsys.readouterr().err


@pytest.mark.native
def test_dp_aware_is_a_keyword_and_a_flag_refused_with_service_discovery():
    cfg = Router(worker_urls=[], dp_aware=True).effective_config()
    assert cfg["dp_aware"] is True
    assert parse_router_args(["--dp-aware"]).router_kwargs()["dp_aware"] is True
    with pytest.raises(ValueError, match="not compatible with service discovery"):
        Router(worker_urls=[], dp_aware=True, service_discovery=True, selector={"app": "x"}).effective_config()
