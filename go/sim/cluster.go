package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// shutdownOnCancel bounds the shutdown StartCluster's ctx triggers.
const shutdownOnCancel = 5 * time.Second

// Cluster is cfg.Workers simulated servers listening on real ports, plus
// their bootstrap listeners when they are prefill servers. Safe for
// concurrent use.
type Cluster struct {
	cfg       Config
	servers   []*Server
	https     []*http.Server
	boots     []*http.Server // nil entries unless prefill
	urls      []string
	bootPorts []int

	wg   sync.WaitGroup // one per Serve goroutine
	done chan struct{}  // closed when every listener has stopped

	mu  sync.Mutex
	err error // first unexpected Serve error; guarded by mu

	stopOnce  sync.Once
	stopWatch func() bool // unregisters the ctx watcher
}

// StartCluster binds every port first (so a failure leaves nothing
// running), then serves. Server i listens on Host:BasePort+i (a free port
// when BasePort is 0); a prefill server also on Host:BootstrapPort+i.
// Cancelling ctx shuts the cluster down, as Shutdown does.
func StartCluster(ctx context.Context, cfg Config, opts ...Option) (*Cluster, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, done: make(chan struct{})}
	lns, bootLns, err := listenAll(cfg)
	if err != nil {
		return nil, err
	}
	for i := range cfg.Workers {
		if err := c.add(i, lns[i], bootLns[i], opts); err != nil {
			closeAll(lns, bootLns)
			return nil, err
		}
	}
	c.serve(lns, bootLns)
	c.stopWatch = context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownOnCancel)
		defer cancel()
		_ = c.Shutdown(sctx)
	})
	return c, nil
}

func listenAll(cfg Config) (lns, bootLns []net.Listener, err error) {
	lns = make([]net.Listener, cfg.Workers)
	bootLns = make([]net.Listener, cfg.Workers)
	for i := range cfg.Workers {
		if lns[i], err = listen(cfg.Host, cfg.BasePort, i); err != nil {
			break
		}
		if cfg.Role == RolePrefill {
			if bootLns[i], err = listen(cfg.Host, cfg.BootstrapPort, i); err != nil {
				break
			}
		}
	}
	if err != nil {
		closeAll(lns, bootLns)
		return nil, nil, err
	}
	return lns, bootLns, nil
}

func listen(host string, base, i int) (net.Listener, error) {
	port := 0
	if base > 0 {
		port = base + i
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

func closeAll(groups ...[]net.Listener) {
	for _, lns := range groups {
		for _, ln := range lns {
			if ln != nil {
				_ = ln.Close()
			}
		}
	}
}

// add builds server i around its listeners.
func (c *Cluster) add(i int, ln, bootLn net.Listener, opts []Option) error {
	s, err := NewServer(c.cfg, i, opts...)
	if err != nil {
		return err
	}
	quiet := log.New(io.Discard, "", 0)
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second, ErrorLog: quiet}
	var boot *http.Server
	bootPort := 0
	if bootLn != nil {
		boot = &http.Server{Handler: s.BootstrapHandler(), ReadHeaderTimeout: 30 * time.Second, ErrorLog: quiet}
		bootPort = bootLn.Addr().(*net.TCPAddr).Port
	}
	s.bootstrapPort = bootPort
	s.setOnCrash(func() {
		_ = hs.Close()
		if boot != nil {
			_ = boot.Close()
		}
	})
	c.servers = append(c.servers, s)
	c.https = append(c.https, hs)
	c.boots = append(c.boots, boot)
	c.urls = append(c.urls, "http://"+ln.Addr().String())
	c.bootPorts = append(c.bootPorts, bootPort)
	return nil
}

func (c *Cluster) serve(lns, bootLns []net.Listener) {
	run := func(hs *http.Server, ln net.Listener) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				c.setErr(err)
			}
		}()
	}
	for i := range c.servers {
		run(c.https[i], lns[i])
		if c.boots[i] != nil {
			run(c.boots[i], bootLns[i])
		}
	}
	go func() {
		c.wg.Wait()
		close(c.done)
	}()
}

func (c *Cluster) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// URLs are the servers' base URLs ("http://127.0.0.1:PORT"), by index.
func (c *Cluster) URLs() []string { return append([]string(nil), c.urls...) }

// BootstrapPorts are the prefill servers' bootstrap ports, by index (0
// for servers of other roles).
func (c *Cluster) BootstrapPorts() []int { return append([]int(nil), c.bootPorts...) }

// Servers are the cluster's servers, by index.
func (c *Cluster) Servers() []*Server { return append([]*Server(nil), c.servers...) }

// Stats returns every server's Stats, with its URL.
func (c *Cluster) Stats() []Stats {
	out := make([]Stats, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.Stats()
		out[i].URL = c.urls[i]
	}
	return out
}

// Done is closed once every listener has stopped: after Shutdown, or
// when every server has crashed (fault injection) or failed.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Err is the first unexpected serving error, nil after a clean stop.
func (c *Cluster) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Shutdown stops the cluster: requests in flight are aborted (a simulated
// server has no work worth finishing), listeners and connections close,
// and it returns once every goroutine of the cluster has ended, or with
// ctx.Err() when ctx ends first. Safe to call more than once.
func (c *Cluster) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() {
		if c.stopWatch != nil {
			c.stopWatch()
		}
		for i, s := range c.servers {
			s.Close()
			_ = c.https[i].Close()
			if c.boots[i] != nil {
				_ = c.boots[i].Close()
			}
		}
	})
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, s := range c.servers {
		for !s.idle() {
			if err := (RealClock{}).Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
		}
		s.trans.CloseIdleConnections()
	}
	return nil
}
