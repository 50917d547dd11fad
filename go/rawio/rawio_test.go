package rawio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// wrapped is a client connection's raw reads and writes; the rest is nc's.
type wrapped struct {
	io.ReadWriter
	nc net.Conn
}

func (w wrapped) Close() error                       { return w.nc.Close() }
func (w wrapped) SetReadDeadline(t time.Time) error  { return w.nc.SetReadDeadline(t) }
func (w wrapped) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

// pair returns a wrapped client connection and the server's end, on
// loopback TCP.
func pair(t *testing.T) (wrapped, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	c := wrapped{Wrap(nc), nc}
	t.Cleanup(func() { nc.Close(); peer.Close() })
	return c, peer
}

func TestWrapLeavesOtherConnsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != io.ReadWriter(a) {
		t.Fatal("a pipe was wrapped")
	}
}

func TestReadWriteBothWays(t *testing.T) {
	c, peer := pair(t)
	if runtime.GOOS == "linux" {
		if _, ok := c.ReadWriter.(*Conn); !ok {
			t.Fatalf("a TCP connection was not wrapped: %T", c.ReadWriter)
		}
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	if _, err := peer.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	if n, err := c.Write(nil); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
}

// A read that finds nothing waits in the netpoller until bytes arrive.
func TestReadWaitsForData(t *testing.T) {
	c, peer := pair(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = peer.Write([]byte("late"))
	}()
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// A write larger than the socket's buffers waits for the peer to read,
// and every byte arrives in order.
func TestLargeWriteArrivesWhole(t *testing.T) {
	c, peer := pair(t)
	want := make([]byte, 16<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	n, err := c.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("wrote %d, %v", n, err)
	}
	_ = c.nc.(*net.TCPConn).CloseWrite()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("peer got %d bytes, not the %d written", len(b), len(want))
	}
}

func TestReadEOF(t *testing.T) {
	c, peer := pair(t)
	peer.Close()
	n, err := c.Read(make([]byte, 8))
	if n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v", n, err)
	}
}

// Deadlines and closing behave as net.Conn's: a timeout error that says
// so, and net.ErrClosed for a connection closed under a blocked read.
func TestDeadlineAndClose(t *testing.T) {
	c, _ := pair(t)
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("error is not a read *net.OpError: %#v", err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // most likely parked by now; either way it must fail
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read of a closed connection: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a blocked read")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write to a closed connection: %v", err)
	}
}

// A deadline in the past interrupts a write blocked on a full socket,
// and the bytes written so far are counted.
func TestDeadlineInterruptsWrite(t *testing.T) {
	c, peer := pair(t) // the peer reads one byte, then nothing
	big := make([]byte, 64<<20)
	done := make(chan struct{})
	var n int
	var err error
	go func() {
		defer close(done)
		n, err = c.Write(big)
	}()
	if _, err := io.ReadFull(peer, make([]byte, 1)); err != nil { // the write is under way
		t.Fatal(err)
	}
	_ = c.SetWriteDeadline(time.Unix(1, 0))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline did not end a blocked write")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= 64<<20 {
		t.Fatalf("write: %d bytes, %v", n, err)
	}
}

// Two readers at once: the second goes through net.Conn's own Read; both
// get bytes, and together exactly what was sent.
func TestConcurrentReaders(t *testing.T) {
	c, peer := pair(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1)
			n, err := c.Read(buf)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	time.Sleep(10 * time.Millisecond)
	_, _ = peer.Write([]byte("a"))
	time.Sleep(10 * time.Millisecond)
	_, _ = peer.Write([]byte("b"))
	wg.Wait()
	if total != 2 {
		t.Fatalf("read %d bytes, want 2", total)
	}
}

// The write WriteOnRead leaves to the next Read arrives whole, small or
// larger than the socket's buffers, and the Read returns the answer.
func TestWriteOnRead(t *testing.T) {
	for _, size := range []int{100, 16 << 20} {
		c, peer := pair(t)
		w, ok := c.ReadWriter.(interface{ WriteOnRead([]byte) })
		if !ok {
			t.Skip("no WriteOnRead on this system")
		}
		req := make([]byte, size)
		for i := range req {
			req[i] = byte(i * 13)
		}
		got := make(chan []byte, 1)
		go func() {
			b := make([]byte, size)
			_, _ = io.ReadFull(peer, b)
			got <- b
			_, _ = peer.Write([]byte("answer"))
		}()
		w.WriteOnRead(req)
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, len("answer"))
		if err != nil || string(buf[:n]) != "answer" {
			t.Fatalf("size %d: read %q, %v", size, buf[:n], err)
		}
		if b := <-got; !bytes.Equal(b, req) {
			t.Fatalf("size %d: the peer did not get the request whole", size)
		}
		// Nothing is left pending: the next read just reads.
		_, _ = peer.Write([]byte("more"))
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "more" {
			t.Fatalf("size %d: next read %q, %v", size, buf[:n], err)
		}
	}
}

// A peer that closed: the write or the read fails, nothing waits.
func TestWriteOnReadToAClosedPeer(t *testing.T) {
	c, peer := pair(t)
	w, ok := c.ReadWriter.(interface{ WriteOnRead([]byte) })
	if !ok {
		t.Skip("no WriteOnRead on this system")
	}
	peer.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	w.WriteOnRead([]byte("request"))
	_, err := c.Read(make([]byte, 8))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after writing to a closed peer: %v", err)
	}
}
