// Package chaos holds the router's chaos tests: the sglang-router binary
// in front of simulated workers, all real processes on loopback, under
// steady load while workers are killed, hung or made to fail, and while
// hostile clients hold connections open. The tests are in _test.go files;
// run them with `make chaos` or `go test -v ./go/chaos`.
package chaos
