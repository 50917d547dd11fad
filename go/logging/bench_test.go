package logging

import (
	"io"
	"testing"

	"go.uber.org/zap"
)

// BenchmarkDebugDisabled is what a per-request debug line costs the request
// path at the default info level: it must be a level check and nothing else.
func BenchmarkDebugDisabled(b *testing.B) {
	l, closeFn, err := New(Options{Level: "info", Console: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	b.ReportAllocs()
	for b.Loop() {
		l.Debug("request", zap.String("route", "/generate"), zap.Int("status", 200))
	}
}

// BenchmarkDebugDisabledChecked is the pattern the request path should use:
// Check first, so the fields are never built and nothing is allocated.
func BenchmarkDebugDisabledChecked(b *testing.B) {
	l, closeFn, err := New(Options{Level: "info", Console: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	b.ReportAllocs()
	for b.Loop() {
		if ce := l.Check(zap.DebugLevel, "request"); ce != nil {
			ce.Write(zap.String("route", "/generate"), zap.Int("status", 200))
		}
	}
}

func BenchmarkInfoConsole(b *testing.B) {
	benchInfo(b, Options{Console: io.Discard})
}

func BenchmarkInfoJSON(b *testing.B) {
	benchInfo(b, Options{Console: io.Discard, JSON: true})
}

func BenchmarkInfoConsoleAndFile(b *testing.B) {
	benchInfo(b, Options{Console: io.Discard, Dir: b.TempDir()})
}

func benchInfo(b *testing.B, opts Options) {
	l, closeFn, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	b.ReportAllocs()
	for b.Loop() {
		l.Info("request", zap.String("route", "/generate"), zap.Int("status", 200))
	}
}
