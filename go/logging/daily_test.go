package logging

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for rollover tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *fakeClock) add(d time.Duration) { c.set(c.now().Add(d)) }

func readLog(t *testing.T, dir, day string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "sgl-router."+day))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestRolloverAtLocalMidnightAndAppend(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2025, 7, 1, 23, 59, 58, 0, time.Local)}
	l, closeFn, err := New(Options{Dir: dir, Console: &strings.Builder{}, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("before midnight")
	clk.add(time.Second) // 23:59:59, same day
	l.Info("still july first")
	clk.add(2 * time.Second) // 00:00:01 next day
	l.Info("after midnight")
	closeFn()

	// A restart on the same day appends to that day's file.
	l, closeFn, err = New(Options{Dir: dir, Console: &strings.Builder{}, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("after restart")
	closeFn()

	tests := []struct {
		day        string
		has, lacks []string
	}{
		{"2025-07-01", []string{"before midnight", "still july first"}, []string{"after"}},
		{"2025-07-02", []string{"after midnight", "after restart"}, []string{"before", "july"}},
	}
	for _, tt := range tests {
		got := readLog(t, dir, tt.day)
		for _, s := range tt.has {
			if !strings.Contains(got, s) {
				t.Errorf("%s lacks %q:\n%s", tt.day, s, got)
			}
		}
		for _, s := range tt.lacks {
			if strings.Contains(got, s) {
				t.Errorf("%s has %q:\n%s", tt.day, s, got)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir has %d files, want 2", len(entries))
	}
}

// When the next day's file cannot be opened, lines keep going to the old file,
// the error is reported, and the switch is retried only after rotateRetry.
func TestFailedRolloverKeepsOldFileAndRetriesLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	clk := &fakeClock{t: time.Date(2025, 7, 1, 23, 0, 0, 0, time.Local)}
	w, err := openDaily(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	old := w.f.Name()
	if err := os.RemoveAll(dir); err != nil { // the open file survives on Linux
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil { // block re-creating the folder
		t.Fatal(err)
	}

	clk.set(time.Date(2025, 7, 2, 0, 0, 1, 0, time.Local))
	if n, err := w.Write([]byte("x\n")); n != 2 || err == nil {
		t.Fatalf("Write = %d, %v; want 2 bytes and the rotation error", n, err)
	}
	clk.add(rotateRetry / 2)
	if _, err := w.Write([]byte("y\n")); err != nil {
		t.Fatalf("Write within the retry interval = %v, want no new attempt", err)
	}
	if w.f.Name() != old {
		t.Errorf("file switched to %s without a folder", w.f.Name())
	}
	clk.add(rotateRetry)
	if _, err := w.Write([]byte("z\n")); err == nil {
		t.Error("Write after the retry interval: want a new attempt and error")
	}
}

func TestDailyFileConcurrentWritesDoNotInterleave(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2025, 7, 1, 12, 0, 0, 0, time.Local)}
	w, err := openDaily(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("a", 200) + "\n")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := w.Write(line); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLog(t, dir, "2025-07-01")
	if want := strings.Repeat(string(line), 200); got != want {
		t.Errorf("file has %d bytes, want %d identical lines", len(got), 200)
	}
}
