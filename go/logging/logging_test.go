package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

var noon = time.Date(2025, 7, 1, 12, 30, 45, 123e6, time.UTC)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestConsoleFormatIsHumanReadable(t *testing.T) {
	var buf bytes.Buffer
	l, closeFn, err := New(Options{Console: &buf, Clock: fixed(noon)})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("router listening", zap.String("addr", "127.0.0.1:30000"))
	closeFn()

	fields := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\t")
	if len(fields) != 5 {
		t.Fatalf("want time, level, caller, message, fields; got %q", buf.String())
	}
	if fields[0] != "2025-07-01T12:30:45.123Z" {
		t.Errorf("time = %q, want ISO8601", fields[0])
	}
	if fields[1] != "INFO" || !strings.HasPrefix(fields[2], "logging/logging_test.go:") {
		t.Errorf("level/caller = %q %q", fields[1], fields[2])
	}
	if fields[3] != "router listening" || fields[4] != `{"addr": "127.0.0.1:30000"}` {
		t.Errorf("message/fields = %q %q", fields[3], fields[4])
	}
}

func TestJSONFormatIsOneObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	l, closeFn, err := New(Options{JSON: true, Console: &buf, Clock: fixed(noon)})
	if err != nil {
		t.Fatal(err)
	}
	l.Warn("slow worker", zap.Duration("took", 1500*time.Millisecond))
	Critical(l, "no workers")
	closeFn()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	want := []map[string]any{
		{"level": "warn", "msg": "slow worker", "ts": "2025-07-01T12:30:45.123Z", "took": 1.5},
		{"level": "critical", "msg": "no workers"},
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d not JSON: %v: %q", i, err, line)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		if c, _ := got["caller"].(string); !strings.HasPrefix(c, "logging/logging_test.go:") {
			t.Errorf("line %d: caller = %q, want this test file", i, c)
		}
	}
}

func TestDirCreatesNestedFolderAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "logs")
	now := time.Date(2025, 7, 1, 9, 0, 0, 0, time.Local)
	var console bytes.Buffer
	l, closeFn, err := New(Options{Dir: dir, Console: &console, Clock: fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("to both outputs")
	if err := closeFn(); err != nil {
		t.Fatalf("close: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sgl-router.2025-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "to both outputs") {
		t.Errorf("file lacks the line: %q", data)
	}
	if !strings.Contains(console.String(), "to both outputs") {
		t.Errorf("console lacks the line: %q", console.String())
	}
}

func TestDirThatIsAFileFailsAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := New(Options{Dir: path, Console: &bytes.Buffer{}}); err == nil {
		t.Fatal("New succeeded with a regular file as Dir")
	}
}

func TestCloseFlushesAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 7, 1, 9, 0, 0, 0, time.Local)
	var console bytes.Buffer
	l, closeFn, err := New(Options{Dir: dir, JSON: true, Console: &console, Clock: fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		l.Info("line", zap.Int("i", i))
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sgl-router.2025-07-01"))
	if n := strings.Count(string(data), "\n"); n != 100 {
		t.Errorf("file has %d lines after close, want 100", n)
	}
	l.Info("after close") // must not panic; the file write error goes to the console
	if !strings.Contains(console.String(), "file already closed") {
		t.Errorf("console lacks the write error: %q", console.String())
	}
}
