package chaos

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// outcome is one good request: when it started and how it ended.
type outcome struct {
	start time.Time
	err   error // nil: 200 with a whole body
}

// load sends non-streamed /generate requests at a steady rate (one every
// period, each on its own goroutine, at most maxOutstanding at once) until
// ctx ends, and keeps every outcome. Open loop, so requests stuck on a hung
// worker do not stop the load reaching the others.
type load struct {
	mu       sync.Mutex // guards outcomes
	outcomes []outcome
	wg       sync.WaitGroup
}

func startLoad(ctx context.Context, url string, period time.Duration, maxOutstanding int) *load {
	l := &load{}
	client := &http.Client{Timeout: 2 * time.Minute}
	slots := make(chan struct{}, maxOutstanding)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for j := 0; ; j++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case slots <- struct{}{}:
			default:
				continue // as many outstanding as allowed: skip a beat
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				defer func() { <-slots }()
				t0 := time.Now()
				err := generate(client, url, fmt.Sprintf("request %d says hello", j))
				l.mu.Lock()
				l.outcomes = append(l.outcomes, outcome{start: t0, err: err})
				l.mu.Unlock()
			}()
		}
	}()
	return l
}

func generate(client *http.Client, url, text string) error {
	body := `{"text":"` + text + `","sampling_params":{"max_new_tokens":4}}`
	resp, err := client.Post(url+"/generate", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, data)
	}
	return nil
}

// wait waits for the clients to stop (their last requests end) and
// returns every outcome.
func (l *load) wait() []outcome {
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.outcomes
}

// between returns how many requests started in [from, to) and which failed.
func between(all []outcome, from, to time.Time) (n int, failed []outcome) {
	for _, o := range all {
		if o.start.Before(from) || !o.start.Before(to) {
			continue
		}
		n++
		if o.err != nil {
			failed = append(failed, o)
		}
	}
	return n, failed
}

// hostile runs n connections to addr that announce a body of announce
// bytes and then send one byte every trickle (never, when trickle is 0).
// A connection the router closes is opened again, until ctx ends. open
// counts the connections whose headers were sent and that are still open.
func hostile(ctx context.Context, wg *sync.WaitGroup, addr string, n int, announce int64, trickle time.Duration, open *atomic.Int64) {
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				holdOne(ctx, addr, announce, trickle, open)
			}
		}()
	}
}

// holdOne is one hostile connection; it returns when the router closes it
// or ctx ends.
func holdOne(ctx context.Context, addr string, announce int64, trickle time.Duration, open *atomic.Int64) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		sleepCtx(ctx, 100*time.Millisecond)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	header := fmt.Sprintf("POST /generate HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"text\":\"", announce)
	if _, err := conn.Write([]byte(header)); err != nil {
		return
	}
	open.Add(1)
	defer open.Add(-1)
	if trickle == 0 {
		_, _ = io.Copy(io.Discard, conn) // until the router answers and closes
		return
	}
	go func() { _, _ = io.Copy(io.Discard, conn) }()
	for ctx.Err() == nil {
		if !sleepCtx(ctx, trickle) {
			return
		}
		if _, err := conn.Write([]byte("a")); err != nil {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
