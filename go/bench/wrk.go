package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkScript sends the bodies listed in the file bodies.txt of the script's
// folder in turn, and prints one machine-readable line at the end. Every
// request is formatted once per thread, in init, so the load generator
// costs the same whatever the body size.
const wrkScript = `
local dir = "%s"
local path = "%s"
local reqs = {}
local n = 0
init = function(args)
  for name in io.lines(dir .. "/bodies.txt") do
    local f = assert(io.open(dir .. "/" .. name, "rb"))
    local body = f:read("*a")
    f:close()
    reqs[#reqs + 1] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  n = n + 1
  return reqs[(n %% #reqs) + 1]
end
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\n", s.requests - e.status, s.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`

// wrkRun is one wrk run: its result and the CPU wrk itself used.
type wrkRun struct {
	Result
	CPU time.Duration
}

// runWrk runs wrk with one thread and conns connections against url,
// sending the bodies in dir (see writeBodies) for d.
func runWrk(ctx context.Context, dir, url string, conns int, d time.Duration) (wrkRun, error) {
	u := strings.TrimPrefix(url, "http://")
	slash := strings.IndexByte(u, '/')
	script := filepath.Join(dir, "bench.lua")
	if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, dir, u[slash:]), 0o644); err != nil {
		return wrkRun{}, err
	}
	secs := strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
	cmd := exec.CommandContext(ctx, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+secs+"s", "--timeout", "10s", "-s", script, url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return wrkRun{}, fmt.Errorf("wrk: %v: %s", err, out.String())
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return wrkRun{}, err
	}
	if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = time.Duration(syscall.TimevalToNsec(u.Utime) + syscall.TimevalToNsec(u.Stime))
	}
	return r, nil
}

// parseWrk reads the RESULT line the script prints: requests answered
// 2xx/3xx, duration (µs), errors, p50 and p99 (µs).
func parseWrk(out string) (wrkRun, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[0] != "RESULT" {
			continue
		}
		var v [5]int64
		for i := range v {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return wrkRun{}, fmt.Errorf("wrk result %q: %v", line, err)
			}
			v[i] = n
		}
		us := time.Microsecond
		return wrkRun{Result: Result{Requests: int(v[0]), Errors: int(v[2]), Elapsed: time.Duration(v[1]) * us,
			P50: time.Duration(v[3]) * us, P99: time.Duration(v[4]) * us}}, nil
	}
	return wrkRun{}, fmt.Errorf("wrk printed no result: %s", out)
}

// writeBodies writes bodies into dir as files listed in bodies.txt, for
// the wrk script.
func writeBodies(dir string, bodies [][]byte) error {
	var list strings.Builder
	for i, b := range bodies {
		name := fmt.Sprintf("body%d.json", i)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		list.WriteString(name + "\n")
	}
	return os.WriteFile(filepath.Join(dir, "bodies.txt"), []byte(list.String()), 0o644)
}
