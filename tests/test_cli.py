"""The launch_router command line: flags, defaults, parsing, RouterArgs. No library needed."""

import argparse
import inspect
import types

import pytest

from sglang_router import PolicyType, Router
from sglang_router.launch_router import (
    RouterArgs,
    main,
    parse_router_args,
    policy_from_str,
)
from sglang_router.launch_server import router_parser

# Every flag's default, by RouterArgs field.
CLI_DEFAULTS = {
    "host": "127.0.0.1",
    "port": 30000,
    "worker_urls": [],
    "policy": "cache_aware",
    "pd_disaggregation": False,
    "prefill_urls": [],
    "decode_urls": [],
    "prefill_policy": None,
    "decode_policy": None,
    "worker_startup_timeout_secs": 300,
    "worker_startup_check_interval": 10,
    "cache_threshold": 0.5,
    "balance_abs_threshold": 32,
    "balance_rel_threshold": 1.0001,
    "eviction_interval": 60,
    "max_tree_size": 2**24,
    "max_payload_size": 256 * 1024 * 1024,
    "log_dir": None,
    "log_level": "info",
    "verbose": False,
    "json_log": False,
    "service_discovery": False,
    "selector": {},
    "service_discovery_port": 80,
    "service_discovery_namespace": None,
    "prefill_selector": {},
    "decode_selector": {},
    "bootstrap_port_annotation": "sglang.ai/bootstrap-port",
    "prometheus_host": "127.0.0.1",
    "prometheus_port": 29000,
    "request_timeout_secs": 600,
    "api_key": None,
    "request_id_headers": ["x-request-id", "x-correlation-id", "x-trace-id", "request-id"],
    "cors_allowed_origins": [],
    # From here on: the original 0.2.x line's defaults (v0.1.6 had no such flags).
    "max_concurrent_requests": -1,
    "queue_size": 100,
    "queue_timeout_secs": 60,
    "shutdown_grace_period_secs": 180,
    "retry_max_retries": 5,
    "retry_initial_backoff_ms": 50,
    "retry_max_backoff_ms": 30000,
    "retry_backoff_multiplier": 1.5,
    "retry_jitter_factor": 0.2,
    "disable_retries": False,
    "cb_failure_threshold": 10,
    "cb_success_threshold": 3,
    "cb_timeout_duration_secs": 60,
    "cb_window_duration_secs": 120,
    "health_check_endpoint": "/health",
    "rate_limit_tokens_per_second": None,
    "disable_circuit_breaker": False,
    "health_failure_threshold": 3,
    "health_success_threshold": 2,
    "health_check_timeout_secs": 5,
    # This router's own options (the original has none of them).
    "max_tree_memory_mb": 256,
    "session_header": "x-session-id",
    "load_poll_interval_ms": 200,
    "max_answer_insert_bytes": 65536,
    "decision_headers": False,
    "admin_api_key": None,
    "client_api_keys": [],
    "body_read_timeout_secs": 60,
    "header_read_timeout_secs": 10,
    "max_buffered_body_bytes": 1 << 30,
    "stall_timeout_secs": 5,
}


def test_cli_defaults_are_router_args_fields():
    assert set(CLI_DEFAULTS) <= {f for f in RouterArgs.__dataclass_fields__}


@pytest.mark.parametrize("field,expected", sorted(CLI_DEFAULTS.items()))
def test_cli_default(field, expected):
    assert getattr(parse_router_args([]), field) == expected
    assert getattr(RouterArgs(), field) == expected


# (argv, field, parsed value)
FLAG_CASES = [
    (["--host", "0.0.0.0"], "host", "0.0.0.0"),
    (["--port", "8080"], "port", 8080),
    (["--worker-urls", "http://a:1", "http://b:2"], "worker_urls", ["http://a:1", "http://b:2"]),
    (["--worker-urls"], "worker_urls", []),
    (["--policy", "random"], "policy", "random"),
    (["--policy", "power_of_two"], "policy", "power_of_two"),
    (["--pd-disaggregation"], "pd_disaggregation", True),
    (["--prefill-policy", "round_robin"], "prefill_policy", "round_robin"),
    (["--decode-policy", "random"], "decode_policy", "random"),
    (["--worker-startup-timeout-secs", "7"], "worker_startup_timeout_secs", 7),
    (["--worker-startup-check-interval", "2"], "worker_startup_check_interval", 2),
    (["--cache-threshold", "0.8"], "cache_threshold", 0.8),
    (["--balance-abs-threshold", "4"], "balance_abs_threshold", 4),
    (["--balance-rel-threshold", "1.5"], "balance_rel_threshold", 1.5),
    (["--eviction-interval", "30"], "eviction_interval", 30),
    (["--eviction-interval-secs", "31"], "eviction_interval", 31),
    (["--max-tree-size", "1000"], "max_tree_size", 1000),
    (["--max-payload-size", "2048"], "max_payload_size", 2048),
    (["--log-dir", "/tmp/logs"], "log_dir", "/tmp/logs"),
    (["--log-level", "warning"], "log_level", "warning"),
    (["--log-level", "critical"], "log_level", "critical"),
    (["--verbose"], "verbose", True),
    (["--json-log"], "json_log", True),
    (["--service-discovery"], "service_discovery", True),
    (["--service-discovery-port", "8000"], "service_discovery_port", 8000),
    (["--service-discovery-namespace", "prod"], "service_discovery_namespace", "prod"),
    (["--bootstrap-port-annotation", "x/y"], "bootstrap_port_annotation", "x/y"),
    (["--prometheus-host", "0.0.0.0"], "prometheus_host", "0.0.0.0"),
    (["--prometheus-port", "9000"], "prometheus_port", 9000),
    (["--request-timeout-secs", "5"], "request_timeout_secs", 5),
    (["--api-key", "sk-1"], "api_key", "sk-1"),
    (["--admin-api-key", "adm"], "admin_api_key", "adm"),
    (["--client-api-keys", "c1", "c2"], "client_api_keys", ["c1", "c2"]),
    (["--max-tree-memory-mb", "64"], "max_tree_memory_mb", 64),
    (["--session-header", "x-conversation"], "session_header", "x-conversation"),
    (["--decision-headers"], "decision_headers", True),
    (["--max-answer-insert-bytes", "0"], "max_answer_insert_bytes", 0),
    (["--request-id-headers", "x-a", "x-b"], "request_id_headers", ["x-a", "x-b"]),
    (["--cors-allowed-origins", "https://a.example"], "cors_allowed_origins", ["https://a.example"]),
    (["--max-concurrent-requests", "64"], "max_concurrent_requests", 64),
    (["--queue-size", "10"], "queue_size", 10),
    (["--queue-timeout-secs", "3"], "queue_timeout_secs", 3),
    (["--shutdown-grace-period-secs", "0"], "shutdown_grace_period_secs", 0),
    (["--retry-max-retries", "1"], "retry_max_retries", 1),
    (["--retry-initial-backoff-ms", "10"], "retry_initial_backoff_ms", 10),
    (["--retry-max-backoff-ms", "100"], "retry_max_backoff_ms", 100),
    (["--disable-retries"], "disable_retries", True),
    (["--cb-failure-threshold", "9"], "cb_failure_threshold", 9),
    (["--cb-success-threshold", "4"], "cb_success_threshold", 4),
    (["--cb-timeout-duration-secs", "12"], "cb_timeout_duration_secs", 12),
    (["--disable-circuit-breaker"], "disable_circuit_breaker", True),
    (["--health-failure-threshold", "6"], "health_failure_threshold", 6),
    (["--health-success-threshold", "7"], "health_success_threshold", 7),
    (["--health-check-timeout-secs", "8"], "health_check_timeout_secs", 8),
]


@pytest.mark.parametrize("argv,field,expected", FLAG_CASES, ids=[" ".join(c[0]) for c in FLAG_CASES])
def test_flag_parses(argv, field, expected):
    assert getattr(parse_router_args(argv), field) == expected


def test_prefill_and_decode_parse_to_url_lists():
    args = parse_router_args([
        "--pd-disaggregation",
        "--prefill", "http://p1:8000", "8001",
        "--prefill", "http://p2:8000", "none",
        "--prefill", "http://p3:8000",
        "--prefill", "http://p4:8000", "NONE",
        "--decode", "http://d1:8000",
        "--decode", "http://d2:8000",
    ])
    assert args.prefill_urls == [
        ("http://p1:8000", 8001),
        ("http://p2:8000", None),
        ("http://p3:8000", None),
        ("http://p4:8000", None),
    ]
    assert args.decode_urls == ["http://d1:8000", "http://d2:8000"]


@pytest.mark.parametrize("port", ["abc", "80x", "1.5"])
def test_invalid_bootstrap_port_message(port):
    with pytest.raises(ValueError) as e:
        parse_router_args(["--pd-disaggregation", "--prefill", "http://p:1", port, "--decode", "http://d:1"])
    assert str(e.value) == f"Invalid bootstrap port: {port}. Must be a number or 'none'"


def test_prefill_with_three_values_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        parse_router_args(["--prefill", "http://p:1", "8001", "http://q:1"])
    assert e.value.code == 2
    assert "--prefill" in capsys.readouterr().err


def test_selectors_split_at_first_equals():
    args = parse_router_args([
        "--service-discovery",
        "--selector", "app=sglang", "expr=a=b", "empty=",
        "--prefill-selector", "component=prefill",
        "--decode-selector", "component=decode", "tier=1",
    ])
    assert args.selector == {"app": "sglang", "expr": "a=b", "empty": ""}
    assert args.prefill_selector == {"component": "prefill"}
    assert args.decode_selector == {"component": "decode", "tier": "1"}


@pytest.mark.parametrize("flag", ["--selector", "--prefill-selector", "--decode-selector"])
def test_selector_item_without_equals_is_an_error(flag):
    with pytest.raises(ValueError, match=f"Invalid {flag} item 'justakey': expected key=value"):
        parse_router_args([flag, "app=x", "justakey"])


@pytest.mark.parametrize("argv", [
    ["--policy", "fastest"],
    ["--prefill-policy", "fastest"],
    ["--log-level", "trace"],
    ["--port", "eighty"],
    ["--cache-threshold", "half"],
    ["--no-such-flag"],
])
def test_argparse_rejects(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse_router_args(argv)
    assert e.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_verbose_means_debug_log_level():
    kw = parse_router_args(["--verbose", "--log-level", "error"]).router_kwargs()
    assert kw["log_level"] == "debug"
    assert parse_router_args(["--log-level", "error"]).router_kwargs()["log_level"] == "error"


def test_main_prints_parse_errors_without_traceback(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--pd-disaggregation", "--prefill", "http://p:1", "oops", "--decode", "http://d:1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Invalid bootstrap port: oops. Must be a number or 'none'" in err
    assert "Traceback" not in err


# ----- RouterArgs.from_cli_args -----


def test_from_cli_args_with_router_prefix():
    parser = argparse.ArgumentParser()
    RouterArgs.add_cli_args(parser, use_router_prefix=True, exclude_host_port=True)
    ns = parser.parse_args([
        "--router-policy", "random",
        "--router-pd-disaggregation",
        "--router-prefill", "http://p:1", "9000",
        "--router-decode", "http://d:1",
        "--router-selector", "a=b",
        "--router-eviction-interval-secs", "5",
        "--router-verbose",
        "--router-api-key", "k",
    ])
    ns.host, ns.port, ns.worker_urls = "0.0.0.0", 1234, ["http://w:1"]  # owned by the caller
    args = RouterArgs.from_cli_args(ns, use_router_prefix=True)
    assert args.policy == "random"
    assert args.pd_disaggregation is True
    assert args.prefill_urls == [("http://p:1", 9000)]
    assert args.decode_urls == ["http://d:1"]
    assert args.selector == {"a": "b"}
    assert args.eviction_interval == 5
    assert args.verbose is True
    assert args.api_key == "k"
    assert (args.host, args.port, args.worker_urls) == ("0.0.0.0", 1234, ["http://w:1"])
    assert args.cache_threshold == 0.5  # untouched flags keep the CLI default


def test_router_prefix_excludes_host_port_but_keeps_worker_urls():
    """As in v0.1.6 and 0.2.x: --worker-urls is never prefixed nor excluded."""
    parser = argparse.ArgumentParser()
    RouterArgs.add_cli_args(parser, use_router_prefix=True, exclude_host_port=True)
    options = {s for a in parser._actions for s in a.option_strings}
    assert {"--host", "--port", "--router-host", "--router-port", "--router-worker-urls"}.isdisjoint(options)
    assert {"--worker-urls", "--router-policy", "--router-prefill", "--router-decode", "--router-log-level",
            "--router-eviction-interval", "--router-eviction-interval-secs"} <= options
    assert all(o.startswith("--router-") or o in ("-h", "--help", "--worker-urls") for o in options)


def test_router_prefix_keeps_unprefixed_host_port_when_not_excluded():
    parser = argparse.ArgumentParser()
    RouterArgs.add_cli_args(parser, use_router_prefix=True)
    ns = parser.parse_args(["--host", "h", "--port", "1", "--worker-urls", "http://w:1",
                            "--router-policy", "random"])
    args = RouterArgs.from_cli_args(ns, use_router_prefix=True)
    assert (args.host, args.port, args.worker_urls, args.policy) == ("h", 1, ["http://w:1"], "random")


def test_from_cli_args_accepts_a_partial_namespace():
    """Scripts build namespaces by hand with only the attributes they care about."""
    ns = argparse.Namespace(
        host="127.0.0.1", port=30001, policy="power_of_two", worker_urls=[],
        pd_disaggregation=True,
        prefill=[["http://prefill1:8080", "9000"], ["http://prefill2:8080", "none"], ["http://prefill3:8080"]],
        decode=[["http://decode1:8081"], ["http://decode2:8081"]],
    )
    args = RouterArgs.from_cli_args(ns)
    assert args.prefill_urls == [
        ("http://prefill1:8080", 9000), ("http://prefill2:8080", None), ("http://prefill3:8080", None)]
    assert args.decode_urls == ["http://decode1:8081", "http://decode2:8081"]
    assert args.policy == "power_of_two"
    assert args.port == 30001
    assert args.max_tree_size == 2**24 and args.selector == {} and args.log_level == "info"


def test_from_cli_args_accepts_plain_objects_with_parsed_lists():
    obj = types.SimpleNamespace(prefill_urls=[("http://p:1", 5)], decode_urls=["http://d:1"],
                                selector={"a": "b"})
    args = RouterArgs.from_cli_args(obj)
    assert args.prefill_urls == [("http://p:1", 5)]
    assert args.decode_urls == ["http://d:1"]
    assert args.selector == {"a": "b"}


def test_from_cli_args_rejects_bad_bootstrap_port_in_namespace():
    ns = argparse.Namespace(prefill=[["http://p:1", "x9"]])
    with pytest.raises(ValueError, match=r"Invalid bootstrap port: x9\. Must be a number or 'none'"):
        RouterArgs.from_cli_args(ns)


# ----- policy_from_str and the Router keywords -----


@pytest.mark.parametrize("name,member", [
    ("random", PolicyType.Random),
    ("round_robin", PolicyType.RoundRobin),
    ("cache_aware", PolicyType.CacheAware),
    ("power_of_two", PolicyType.PowerOfTwo),
])
def test_policy_from_str(name, member):
    assert policy_from_str(name) is member


def test_policy_from_str_unknown_and_none():
    """KeyError for an unknown name, as the original (v0.1.6 and 0.2.x) raised."""
    assert policy_from_str(None) is None
    with pytest.raises(KeyError, match="fastest"):
        policy_from_str("fastest")


def test_router_kwargs_are_router_keywords_that_differ_from_the_class_defaults():
    kw = RouterArgs().router_kwargs()
    params = set(inspect.signature(Router).parameters)
    assert set(kw) <= params
    assert kw == {"worker_urls": [], "port": 30000, "policy": "cache_aware"}  # the CLI's own defaults
    Router(**kw)  # accepted as is


def test_router_kwargs_mapping():
    args = parse_router_args(["--eviction-interval", "9", "--policy", "random",
                              "--prefill-policy", "cache_aware",
                              "--prefill", "http://p:1", "7", "--pd-disaggregation"])
    kw = args.router_kwargs()
    assert kw["eviction_interval_secs"] == 9
    assert kw["policy"] == "random"
    assert kw["prefill_policy"] == "cache_aware"
    assert "decode_policy" not in kw  # not set: Go's default (the --policy)
    assert kw["prefill_urls"] == [("http://p:1", 7)]
    assert kw["port"] == 30000  # the CLI default, not the class default


# ----- launch_server's parser -----


def test_launch_server_parser_splits_router_and_sglang_flags():
    ns, rest = router_parser().parse_known_args([
        "--model-path", "m", "--dp-size", "2", "--host", "0.0.0.0", "--port", "30000",
        "--router-policy", "round_robin", "--router-dp-worker-base-port", "32000",
        "--router-prefill", "http://p:1",
    ])
    assert rest == ["--model-path", "m", "--dp-size", "2", "--host", "0.0.0.0", "--port", "30000"]
    assert ns.router_dp_worker_base_port == 32000
    args = RouterArgs.from_cli_args(ns, use_router_prefix=True)
    assert args.policy == "round_robin"
    assert args.prefill_urls == [("http://p:1", None)]


def test_launch_server_base_port_default():
    ns, _ = router_parser().parse_known_args([])
    assert ns.router_dp_worker_base_port == 31000
