// Command capi is the C boundary of the router: the only cgo package. It is
// built with
//
//	go build -buildmode=c-shared -o sglang_router/lib/libsglang_router.so ./go/capi
//
// and loaded by sglang_router/_native.py through ctypes.
//
// # Contract
//
// Every function that returns char* returns a NUL-terminated JSON object
// allocated by Go; the caller frees it with sgl_free (ctypes declares the
// return type c_void_p so Python keeps the pointer to free it). Every export
// recovers panics and reports them as an error of class "internal": a Go
// panic must never kill the host process. There is no global state besides
// the handle table, so several routers and simulators run side by side.
//
// An error result is {"error": {"class": C, "message": M}} where C is one of
// "config" (Python raises ValueError; also an invalid worker URL, role or
// bootstrap port), "bind", "startup_timeout", "not_found", "conflict" (the
// worker exists), "not_ready" (its host does not resolve, or it did not
// become healthy in time), "busy" (too many adds waiting), "cancelled",
// "internal" (RuntimeError).
//
//	char* sgl_router_start(const char* config_json)
//	    Validates the configuration (JSON keys = Router keyword names, null or
//	    absent = default), binds the listeners and returns at once:
//	    {"handle": H, "address": "host:port", "metrics_address": "host:port"}.
//	    Worker health checks, discovery and serving run on goroutines. Empty
//	    admin_api_key and client_api_keys are read from the C environment's
//	    SGLANG_ROUTER_ADMIN_API_KEY and SGLANG_ROUTER_CLIENT_API_KEYS at the
//	    time of the call (so Python's os.environ counts), as sgl_config and
//	    sgl_cli_start do.
//	char* sgl_sim_start(const char* config_json)
//	    Starts simulated workers (go/sim): {"handle": H, "urls": [...]}.
//	char* sgl_wait(long long handle, int timeout_ms)
//	    Waits up to timeout_ms for the service to end: {"done": false} while
//	    it runs, {"done": true} after a clean stop, or {"done": true,
//	    "error": {...}} when it failed (e.g. class "startup_timeout": no worker
//	    became healthy in time; the message names the URLs).
//	char* sgl_stop(long long handle, int grace_ms)
//	    Stops accepting requests, lets in-flight requests finish for up to
//	    grace_ms, then closes everything and releases the handle: {"ok": true}.
//	    Stopping a service that already ended only releases the handle.
//	char* sgl_call(long long handle, const char* method, const char* args_json)
//	    A management call on a running service; the result is the method's
//	    JSON. Router methods:
//	      "add_worker"    {"url": U, "role": "regular"|"prefill"|"decode",
//	                       "bootstrap_port": N|null, "wait": bool} -> {"ok": true}
//	                      With wait it returns once the worker's health
//	                      endpoint (health_check_endpoint, what the health
//	                      checks probe) answered 2xx (up to the startup
//	                      timeout).
//	      "add_worker_async" the same arguments -> {"handle": H}: the add runs
//	                      in the background under handle H. sgl_wait(H, ms)
//	                      reports when it ended ({"done": true}, or with the
//	                      add's error); sgl_stop(H, 0) cancels it if it still
//	                      runs and releases H (always call it). Python waits
//	                      in slices this way so Ctrl-C can interrupt an add.
//	      "remove_worker" {"url": U} -> {"ok": true}
//	      "list_workers"  {} -> {"urls": [...]} (regular) or
//	                        {"prefill": [...], "decode": [...]} (PD)
//	      "info"          {} -> {"address": .., "metrics_address": .., "mode": .., "policy": ..}
//	      "inflight"      {} -> {"inflight": N, "grace_secs": S} (requests being served now)
//	      "abort"         {} -> {"ok": true}: cut every connection now (a second Ctrl-C
//	                        while sgl_stop drains)
//	char* sgl_spec(void)
//	    {"spec": {"defaults", "cli_defaults", "flags", "policies"}, "version": V}:
//	    the option table Python derives RouterArgs, argparse and Router(...) from.
//	char* sgl_config(const char* config_json)
//	    {"config": {...}}: the effective configuration (defaults filled in,
//	    validated) that sgl_router_start would run with, or a "config" error.
//	char* sgl_cli_start(const char* argv_json)
//	    Runs one `sglang-router` command line (a JSON list of strings, without
//	    the program name) on a goroutine, writing to the process's stdout and
//	    stderr: {"handle": H}. sgl_wait answers {"done": true, "exit_code": N}
//	    once it ends; sgl_stop is Ctrl-C (a router drains for grace_ms).
//	void sgl_free(char* p)
//	char* sgl_version(void) -> {"version": V}
package main
