package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// routerBin is the sglang-router binary the tests run: $CHAOS_ROUTER_BIN
// when set (to run the same attack against another build), else one built
// from this tree by TestMain.
var routerBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv("CHAOS_ROUTER_BIN"); bin != "" {
		routerBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "chaos-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	routerBin = filepath.Join(dir, "sglang-router")
	build := exec.Command("go", "build", "-o", routerBin, "../cmd/sglang-router")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sglang-router:", err)
		return 1
	}
	return m.Run()
}

// proc is a child process of a test; its output goes to a file that is
// shown when the test fails.
type proc struct {
	t   *testing.T
	cmd *exec.Cmd
	log string
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	log := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(routerBin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, log: log}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			tail, _ := os.ReadFile(log)
			if len(tail) > 4000 {
				tail = tail[len(tail)-4000:]
			}
			t.Logf("%s output (end):\n%s", name, tail)
		}
	})
	return p
}

// kill sends SIGKILL and reaps the process.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// rssBytes is the process's resident set size, from /proc.
func (p *proc) rssBytes() int64 { return p.status("VmRSS:") }

// vmBytes is the process's virtual memory size, from /proc.
func (p *proc) vmBytes() int64 { return p.status("VmSize:") }

// status reads a size field (in kB) of /proc/<pid>/status, in bytes.
func (p *proc) status(field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before it is used; on loopback in a test run that does not happen
// in practice, and a sim restarted on the same port needs to know it.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSim runs one simulated worker on port.
func startSim(t *testing.T, port int) *proc {
	t.Helper()
	p := start(t, fmt.Sprintf("sim-%d", port), "sim", "--workers", "1", "--base-port", strconv.Itoa(port))
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", port))
	return p
}

// waitHTTP waits (generously) until GET url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	eventually(t, 60*time.Second, "GET "+url+" answers 200", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// eventually polls cond until it holds, failing the test after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric sums the samples of a Prometheus metric at url whose label set
// contains every one of labels (name="value" pairs as written).
func metric(ctx context.Context, url, name string, labels ...string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return sumSamples(resp.Body, name, labels)
}

func sumSamples(r io.Reader, name string, labels []string) (float64, error) {
	sum := 0.0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if !hasAll(line, labels) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, sc.Err()
}

func hasAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// raiseFileLimit raises this process's open-file limit (children inherit
// it) to at least want, or skips the test when the hard limit forbids it.
func raiseFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read RLIMIT_NOFILE: %v", err)
	}
	if lim.Cur >= want {
		return
	}
	if lim.Max < want {
		t.Skipf("needs %d open files; the hard limit is %d (raise it with ulimit -Hn)", want, lim.Max)
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", want, err)
	}
}
