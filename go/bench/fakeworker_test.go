package bench

import (
	"bytes"
	"strings"
	"testing"
)

// The fake worker reads every body to its end, keeping a body that fits
// its buffer whole and the head of a longer one.
func TestReadBodyReadsAll(t *testing.T) {
	buf := make([]byte, 64)
	for _, n := range []int{0, 10, 63, 64, 65, 100, 1000} {
		body := strings.Repeat("abcdefghij", n/10+1)[:n]
		r := strings.NewReader(body)
		got := readBody(r, buf)
		if r.Len() != 0 {
			t.Errorf("%d bytes: %d left unread", n, r.Len())
		}
		want := body
		if n > len(buf) {
			want = body[:len(buf)/2]
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%d bytes: kept %q, want %q", n, got, want)
		}
	}
}
