package cli

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// runMainEnv makes the test binary run the binary's command (Run) instead
// of the tests, so signal tests drive a real process.
const runMainEnv = "SGLANG_ROUTER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(Run("test", os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// routerProcess is the command running in a child process.
type routerProcess struct {
	cmd    *exec.Cmd
	mu     sync.Mutex // guards output
	output strings.Builder
	addr   chan string   // the listen address, once logged
	exited chan struct{} // closed when the child has exited
	err    error         // its exit status, set before exited is closed
}

func startRouterProcess(t *testing.T, args ...string) *routerProcess {
	t.Helper()
	p := &routerProcess{addr: make(chan string, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

var listening = regexp.MustCompile(`router listening.*"address": "http://([^"]+)"`)

// read collects the child's stderr, reports its address, then its exit.
func (p *routerProcess) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.output.WriteString(line + "\n")
		p.mu.Unlock()
		if m := listening.FindStringSubmatch(line); m != nil {
			p.addr <- m[1]
		}
	}
	p.err = p.cmd.Wait()
	close(p.exited)
}

func (p *routerProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// waitLog waits (generously) until the child logged want.
func (p *routerProcess) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.logs(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the router never logged %q:\n%s", want, p.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSecondSignalStopsAtOnceDuringTheGracePeriod(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			w := workertest.New(t, "w0")
			w.Hang(true) // the request in flight never ends by itself
			p := startRouterProcess(t, "--worker-urls", w.URL, "--port", "0", "--prometheus-port", "0",
				"--policy", "round_robin", "--worker-startup-check-interval", "1", "--shutdown-grace-period-secs", "3600")
			var addr string
			select {
			case addr = <-p.addr:
			case <-time.After(60 * time.Second):
				t.Fatalf("the router never listened:\n%s", p.logs())
			}
			p.waitLog(t, "worker healthy")
			inFlight := make(chan error, 1)
			go func() {
				resp, err := http.Post("http://"+addr+"/generate", "application/json", strings.NewReader(`{"text":"hi"}`))
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				inFlight <- err
			}()
			waitFor(t, "the request to reach the worker", func() bool { return w.Count("/generate") > 0 })

			must(t, p.cmd.Process.Signal(sig))
			p.waitLog(t, "signal again to stop now")
			must(t, p.cmd.Process.Signal(sig))
			select {
			case <-p.exited:
				var ee *exec.ExitError
				if !errors.As(p.err, &ee) || ee.ExitCode() != 128+int(sig) {
					t.Fatalf("exit: %v; want code %d\n%s", p.err, 128+int(sig), p.logs())
				}
			case <-time.After(60 * time.Second): // the grace period is an hour
				t.Fatalf("a second %s did not stop the router:\n%s", sig, p.logs())
			}
			if err := <-inFlight; err == nil {
				t.Error("the request in flight was answered; it should have been cut")
			}
		})
	}
}

func TestOneSignalStopsAnIdleRouterWithCodeZero(t *testing.T) {
	w := workertest.New(t, "w0")
	p := startRouterProcess(t, "--worker-urls", w.URL, "--port", "0", "--prometheus-port", "0",
		"--policy", "round_robin", "--worker-startup-check-interval", "1")
	select {
	case <-p.addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("the router never listened:\n%s", p.logs())
	}
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("exit after one SIGTERM: %v; want 0\n%s", p.err, p.logs())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("an idle router did not stop on SIGTERM:\n%s", p.logs())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
