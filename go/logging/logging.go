// Package logging builds the router's zap loggers: console
// output, optionally also daily files, at exactly the configured level.
// Nothing here is global: callers inject the returned logger.
package logging

import (
	"io"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options configure New. The zero value logs at info to stderr in the
// human-readable console format.
type Options struct {
	// Level is debug, info, warning|warn, error or critical ("" = info).
	Level string
	// Dir, when set, adds daily files <Dir>/sgl-router.YYYY-MM-DD (local
	// date), created with their folder if missing, appended if present.
	Dir string
	// JSON selects JSON lines instead of the console format, for every output.
	JSON bool
	// Console receives every line; nil means os.Stderr.
	Console io.Writer
	// Clock stamps entries and decides the file's day; nil means time.Now.
	Clock func() time.Time
}

// New builds a logger. closeLogs flushes and closes the log files (it is safe to
// call more than once); the logger must not be used after closeLogs. The logger
// never panics or exits on its own: it is not in development mode, so
// DPanic-level (critical) entries are only logged.
func New(opts Options) (logger *zap.Logger, closeLogs func() error, err error) {
	level, err := ParseLevel(opts.Level)
	if err != nil {
		return nil, nil, err
	}
	opts = withDefaults(opts)
	console := zapcore.Lock(zapcore.AddSync(opts.Console))
	cores := []zapcore.Core{zapcore.NewCore(newEncoder(opts.JSON), console, level)}

	var file *dailyFile
	if opts.Dir != "" {
		if file, err = openDaily(opts.Dir, opts.Clock); err != nil {
			return nil, nil, err
		}
		cores = append(cores, zapcore.NewCore(newEncoder(opts.JSON), file, level))
	}
	logger = zap.New(zapcore.NewTee(cores...),
		zap.AddCaller(),
		zap.AddStacktrace(LevelCritical),
		zap.ErrorOutput(console),
		zap.WithClock(clock(opts.Clock)),
	)
	return logger, closer(console, file), nil
}

// Critical logs msg at LevelCritical. Use it for conditions an operator must
// see even with --log-level critical.
func Critical(l *zap.Logger, msg string, fields ...zap.Field) {
	l.WithOptions(zap.AddCallerSkip(1)).DPanic(msg, fields...)
}

func withDefaults(opts Options) Options {
	if opts.Console == nil {
		opts.Console = os.Stderr
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return opts
}

// newEncoder returns the console (tab-separated, ISO8601 time, upper-case
// level) or the JSON lines encoder. Both use the same keys.
func newEncoder(json bool) zapcore.Encoder {
	cfg := zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		NameKey:        "logger",
		CallerKey:      "caller",
		MessageKey:     "msg",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     zapcore.ISO8601TimeEncoder,
		EncodeCaller:   zapcore.ShortCallerEncoder,
		EncodeName:     zapcore.FullNameEncoder,
		EncodeLevel:    encodeCapitalLevel,
		EncodeDuration: zapcore.StringDurationEncoder,
	}
	if json {
		cfg.EncodeLevel = encodeLevel
		cfg.EncodeDuration = zapcore.SecondsDurationEncoder
		return zapcore.NewJSONEncoder(cfg)
	}
	return zapcore.NewConsoleEncoder(cfg)
}

// closer syncs the console (its error is ignored: syncing a terminal or pipe
// fails on some systems and loses nothing) and closes the file once.
func closer(console zapcore.WriteSyncer, file *dailyFile) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			_ = console.Sync()
			if file != nil {
				err = file.Close()
			}
		})
		return err
	}
}

// clock adapts a time source to zapcore.Clock.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

func (c clock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
