package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// progressWriter shows how far a run is: on a terminal one line rewritten
// in place a few times a second, elsewhere (a log, a pipe) a plain line at
// each quarter. Runs are shown one at a time.
type progressWriter struct {
	out   io.Writer
	tty   bool
	every time.Duration // terminal refresh interval
}

func newProgressWriter(out io.Writer) *progressWriter {
	return &progressWriter{out: out, tty: isTerminal(out), every: 200 * time.Millisecond}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine is one run being shown; done is advanced by the run.
type progressLine struct {
	p     *progressWriter
	label string
	total int
	done  *atomic.Int64
	t0    time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// start shows label and keeps showing done/total until finish.
func (p *progressWriter) start(label string, total int, done *atomic.Int64) *progressLine {
	l := &progressLine{p: p, label: label, total: total, done: done, t0: time.Now(), stop: make(chan struct{})}
	l.wg.Add(1)
	go l.loop()
	return l
}

func (l *progressLine) loop() {
	defer l.wg.Done()
	t := time.NewTicker(l.p.every)
	defer t.Stop()
	quarter := 0
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		n := int(l.done.Load())
		switch {
		case l.p.tty:
			fmt.Fprintf(l.p.out, "\r%s %5d/%d requests", l.label, n, l.total)
		case l.total > 0 && n*4/l.total > quarter && n < l.total:
			quarter = n * 4 / l.total
			fmt.Fprintf(l.p.out, "%s %5d/%d requests\n", l.label, n, l.total)
		}
	}
}

// elapsed is the wall time since start.
func (l *progressLine) elapsed() time.Duration { return time.Since(l.t0) }

// finish stops the updates and leaves one line with the outcome.
func (l *progressLine) finish(outcome string) {
	close(l.stop)
	l.wg.Wait()
	if l.p.tty {
		fmt.Fprint(l.p.out, "\r\033[K")
	}
	fmt.Fprintf(l.p.out, "%s %s\n", l.label, outcome)
}
