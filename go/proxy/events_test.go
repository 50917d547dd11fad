package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// chunks is a body that returns its parts one Read at a time, then err.
type chunks struct {
	parts []string
	err   error
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, c.err
	}
	n := copy(p, c.parts[0])
	if c.parts[0] = c.parts[0][n:]; c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// flushes records what had been written at each flush.
type flushes struct {
	*httptest.ResponseRecorder
	seen []string
}

func (f *flushes) Flush() { f.seen = append(f.seen, f.Body.String()) }

func TestEventsAreRelayedWholeLinesAtATime(t *testing.T) {
	broken := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		parts   []string
		end     error
		flushed []string // what the client had at each flush
		err     error
	}{
		{"whole events", []string{"data: 1\n\n", "data: 2\n\n"}, io.EOF,
			[]string{"data: 1\n\n", "data: 1\n\ndata: 2\n\n"}, nil},
		{"a line split across reads waits for its end", []string{"data: 1\n\nda", "ta: 2\n\n"}, io.EOF,
			[]string{"data: 1\n\n", "data: 1\n\ndata: 2\n\n"}, nil},
		{"an unterminated last line is delivered at the end", []string{"data: 1\n\n", "data: [DO", "NE]"}, io.EOF,
			[]string{"data: 1\n\n", "data: 1\n\ndata: [DONE]"}, nil},
		{"a broken stream ends at the last whole line", []string{"data: 1\n\n", "data: {\"partial"}, broken,
			[]string{"data: 1\n\n"}, broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &flushes{ResponseRecorder: httptest.NewRecorder()}
			var tapped strings.Builder
			firstAt := -1
			d := Delivery{Tap: func(p []byte) { tapped.Write(p) }, FirstByte: func() { firstAt = len(w.seen) }}
			err := copyEvents(w, &chunks{parts: append([]string(nil), tc.parts...), err: tc.end}, &d)
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if strings.Join(w.seen, "|") != strings.Join(tc.flushed, "|") {
				t.Errorf("flushed %q, want %q", w.seen, tc.flushed)
			}
			if d.Bytes != int64(w.Body.Len()) {
				t.Errorf("counted %d bytes, wrote %d", d.Bytes, w.Body.Len())
			}
			if tapped.String() != w.Body.String() {
				t.Errorf("tapped %q, the client got %q", tapped.String(), w.Body.String())
			}
			if firstAt != 1 {
				t.Errorf("FirstByte fired after %d flushes, want 1", firstAt)
			}
		})
	}
}

func TestALineLongerThanTheBufferIsNotHeldForever(t *testing.T) {
	long := "data: " + strings.Repeat("x", 100<<10) + "\n\n"
	w := &flushes{ResponseRecorder: httptest.NewRecorder()}
	if err := copyEvents(w, strings.NewReader(long), nil); err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != long || len(w.seen) < 2 {
		t.Errorf("relayed %d bytes in %d flushes", w.Body.Len(), len(w.seen))
	}
}

// BenchmarkWriteResponseStream relays a 200-event stream that arrives one
// event per read, as a worker flushing each event sends it.
func BenchmarkWriteResponseStream(b *testing.B) {
	event := "data: " + `{"id":"cmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}` + "\n\n"
	parts := make([]string, 200)
	for i := range parts {
		parts[i] = event
	}
	header := http.Header{"Content-Type": {"text/event-stream"}}
	b.ReportAllocs()
	b.SetBytes(int64(len(event) * len(parts)))
	for b.Loop() {
		resp := &http.Response{StatusCode: 200, Header: header, ContentLength: -1,
			Body: io.NopCloser(&chunks{parts: append([]string(nil), parts...), err: io.EOF})}
		if err := WriteResponse(httptest.NewRecorder(), resp, nil); err != nil {
			b.Fatal(err)
		}
	}
}
