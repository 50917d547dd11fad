// Package sim simulates SGLang inference servers well enough that routing
// decisions show up in real numbers on a machine without GPUs: cache hit
// rates, queueing, time to first token. It is the substrate of the
// router's end-to-end tests and benchmarks.
//
// One Server is an engine behind SGLang's HTTP API (/generate,
// /v1/chat/completions, /v1/completions, /health, /health_generate,
// /get_server_info, /get_model_info, /v1/models, /get_load, /flush_cache,
// /metrics), plus /sim/faults to make it sick at run time (LiveFaults),
// and the routes beyond them (routes.go): /v1/responses and /v1/messages
// through the engine like chat, with their named-event streams, and,
// answered at once with deterministic bodies, embeddings, /encode,
// /classify, /v1/classify, /v1/rerank, /v1/score, tokenize, detokenize
// (ids come back as "t<id>": the hash tokenizer cannot invert),
// /v1/messages/count_tokens and /abort_request (which notes the rid for
// tests, Server.Aborted, and stops nothing). NewServer gives an
// http.Handler for httptest; StartCluster runs Config.Workers of them on
// loopback ports, each serving Config.Models[i % len] when that is set.
//
// Tokenizer (Config.Tokenizer): "words" makes each whitespace-separated
// word one token (16-byte pieces of longer words); "bytes4" makes every 4
// bytes one token. input_ids are used as given. Chat messages are rendered
// as "<|role|> text <|end|>" lines followed by "<|assistant|>", so a
// growing conversation shares its prefix. Output is a deterministic
// function of the seed, the prompt and the sample index: words of a fixed
// 64-word list, exactly max_new_tokens of them (finish_reason "length").
//
// Prefix cache: blocks of BlockSize tokens keyed by a hash chained over
// every token before them; cached_tokens is the longest cached prefix in
// whole blocks (leaving at least one prompt token to compute). A prompt is
// looked up and its blocks enter the cache when its request is scheduled,
// not when it arrives (a queued request can lose its hit), prompt and
// output blocks when it ends. As in SGLang, running requests' own KV (the
// uncached prompt and the output) takes room from the same capacity; LRU
// eviction, leaves first, keeps cache and running KV within
// CacheCapacityTokens.
//
// Latency: MaxRunningRequests run at once, the rest wait in a FIFO queue
// (MaxQueue; beyond it 503). Prefill throughput is the server's, not each
// request's: as SGLang's single scheduler batches prefills under a token
// budget, a running request's uncached tokens join one FIFO prefill lane
// per server, served at PrefillTokensPerSec, so they delay the first
// token of every request behind them on that server (prefill.go). A
// prefill ends after the lane's earlier work, its own uncached tokens /
// PrefillTokensPerSec, and PrefillOverheadMs (which does not hold the
// lane). Each further token takes one decode step of
// (1/DecodeTokensPerSec)*(1 + DecodeBatchSlope*(running-1)); decoding
// does not wait for the lane. Every duration is multiplied by TimeScale
// (0: no sleeping). Time to first token = queue wait + lane wait +
// prefill. Decode steps shorter than 1 ms of real
// time are slept in groups (tokens of a group leave up to 1 ms early; the
// last token is on time). Durations reported in responses and metrics are
// the real (scaled) ones: divide by TimeScale for simulated time.
//
// Cost: one streamed token is an SSE event written and flushed, about
// 10 µs of CPU; keep concurrent streams x DecodeTokensPerSec / TimeScale
// within what the machine can write (tens of thousands per second per
// core), or timings stretch. Non-streamed requests cost a timer wake per
// token group only.
//
// PD: see bootstrap.go. Faults: see Config and faults.go.
package sim
