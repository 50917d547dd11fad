package h1

import (
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

// A read deadline the handler sets bounds a body read that waits for the
// client, whether set before the read or while it blocks in another
// goroutine; one left behind does not touch the connection's next request.
func TestHandlerReadDeadlinesBoundBodyReads(t *testing.T) {
	for _, when := range []string{"before", "during"} {
		t.Run(when, func(t *testing.T) {
			got := make(chan error, 1)
			_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/next" {
					io.WriteString(w, "next")
					return
				}
				rc := http.NewResponseController(w)
				if when == "before" {
					rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
					_, err := io.ReadAll(r.Body)
					got <- err
				} else {
					read := make(chan error, 1)
					go func() { _, err := io.ReadAll(r.Body); read <- err }()
					time.Sleep(20 * time.Millisecond) // not a condition: either order must interrupt the read
					rc.SetReadDeadline(aLongTimeAgo)
					got <- <-read
				}
				w.Header().Set("Connection", "close")
			}))
			rc := dial(t, addr)
			rc.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhi")
			select {
			case err := <-got:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("body read: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the deadline did not end the body read")
			}
		})
	}
	t.Run("left behind", func(t *testing.T) {
		_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			http.NewResponseController(w).SetReadDeadline(aLongTimeAgo)
			io.WriteString(w, r.URL.Path)
		}))
		rc := dial(t, addr)
		for _, p := range []string{"/a", "/b"} {
			rc.send("POST " + p + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
			if _, body := rc.read("POST"); body != p {
				t.Fatalf("answer %q, want %q", body, p)
			}
		}
	})
}
