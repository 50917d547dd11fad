package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FilePrefix starts every log file name: <dir>/sgl-router.YYYY-MM-DD.
const FilePrefix = "sgl-router."

// rotateRetry is how long a failed switch to a new day's file waits before
// the next attempt, so a broken folder costs one error a minute, not one per line.
const rotateRetry = time.Minute

// dailyFile is a zapcore.WriteSyncer appending to one file per local calendar
// day. The day comes from the injected clock at write time: the first write
// at or after local midnight opens the next day's file (appending if it
// exists). An entry stamped just before midnight may therefore land in the
// next day's file. Safe for concurrent use.
type dailyFile struct {
	dir string
	now func() time.Time

	mu     sync.Mutex // guards the fields below; held for a whole write so lines never interleave
	f      *os.File   // the current day's file; nil only if none could ever be opened
	until  time.Time  // when to switch: the next local midnight, or the retry time after a failure
	closed bool
}

// openDaily creates dir (and parents) if missing and opens today's file, so a
// bad folder is reported at startup.
func openDaily(dir string, now func() time.Time) (*dailyFile, error) {
	w := &dailyFile{dir: dir, now: now}
	if err := w.rotate(now()); err != nil {
		return nil, err
	}
	return w, nil
}

// Write appends p to the current day's file. If the switch to a new day
// fails, p still goes to the previous file and the error is returned (zap
// reports it on its error output).
func (w *dailyFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	var rotErr error
	if t := w.now(); !t.Before(w.until) {
		rotErr = w.rotate(t)
	}
	if w.f == nil {
		return 0, rotErr
	}
	n, err := w.f.Write(p)
	if err == nil {
		err = rotErr
	}
	return n, err
}

// rotate switches to the file for t's local date. Called with mu held.
func (w *dailyFile) rotate(t time.Time) error {
	t = t.Local()
	f, err := openDay(w.dir, t)
	if err != nil {
		w.until = t.Add(rotateRetry)
		return err
	}
	if w.f != nil {
		_ = w.f.Close() // every write already reached the kernel; nothing to lose
	}
	w.f = f
	y, m, d := t.Date()
	w.until = time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
	return nil
}

func openDay(dir string, t time.Time) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logging: create log folder: %w", err)
	}
	name := filepath.Join(dir, FilePrefix+t.Format("2006-01-02"))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logging: open log file: %w", err)
	}
	return f, nil
}

// Sync flushes the current file to disk.
func (w *dailyFile) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close syncs and closes the current file; later writes fail with
// os.ErrClosed. Calling Close again is a no-op.
func (w *dailyFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.f == nil {
		w.closed = true
		return nil
	}
	w.closed = true
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
