package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// manualClock is a Clock that moves only when the test advances it.
type manualClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	sl := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, sl)
	c.mu.Unlock()
	select {
	case <-sl.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.sleepers = slices.DeleteFunc(c.sleepers, func(x *sleeper) bool { return x == sl })
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *manualClock) numSleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// advanceToNext moves the clock to the earliest sleeper's deadline and
// wakes every sleeper due by then.
func (c *manualClock) advanceToNext() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sleepers) == 0 {
		return
	}
	next := c.sleepers[0].until
	for _, s := range c.sleepers {
		if s.until.Before(next) {
			next = s.until
		}
	}
	c.now = next
	c.sleepers = slices.DeleteFunc(c.sleepers, func(s *sleeper) bool {
		if !s.until.After(next) {
			close(s.wake)
			return true
		}
		return false
	})
}

// advance moves the clock by d, waking the sleepers due by then.
func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleepers = slices.DeleteFunc(c.sleepers, func(s *sleeper) bool {
		if !s.until.After(c.now) {
			close(s.wake)
			return true
		}
		return false
	})
}

// drive advances the clock whenever at least want goroutines sleep on
// it, until done is closed. Tests choose want so that every job that can
// run is asleep before time moves, which makes timings exact.
func (c *manualClock) drive(t *testing.T, done <-chan struct{}, want int) {
	t.Helper()
	limit := time.After(5 * time.Second)
	for {
		select {
		case <-done:
			return
		case <-limit:
			t.Fatalf("manual clock: jobs did not finish (sleepers %d)", c.numSleepers())
		default:
		}
		if c.numSleepers() >= want {
			c.advanceToNext()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// testServer returns a server of cfg (index 0) behind httptest.
func testServer(t *testing.T, cfg Config, opts ...Option) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(cfg, 0, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts
}

// post sends body as JSON and returns the status and the whole answer.
func post(t *testing.T, url, body string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// sseEvents splits an SSE body into its data payloads, checking framing.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	expectBlank := false
	for sc.Scan() {
		line := sc.Text()
		if expectBlank {
			if line != "" {
				t.Fatalf("event not followed by a blank line: %q", line)
			}
			expectBlank = false
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected SSE line %q", line)
		}
		out = append(out, data)
		expectBlank = true
	}
	if len(out) == 0 || out[len(out)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", out)
	}
	return out
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("invalid JSON %s: %v", data, err)
	}
}

// words returns n distinct words "w<base+i>" joined by spaces.
func words(base, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = "w" + strconv.Itoa(base+i)
	}
	return strings.Join(ws, " ")
}
