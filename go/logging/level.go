package logging

import (
	"fmt"
	"strings"

	"go.uber.org/zap/zapcore"
)

// LevelCritical is the severity of "critical" messages. zap has no critical
// level, so it borrows DPanicLevel: above error, below zap's panic and fatal
// (which would panic or exit). Loggers built by New are never in development
// mode, so logging at this level never panics. It is printed as CRITICAL.
const LevelCritical = zapcore.DPanicLevel

// ParseLevel maps a --log-level value to a zap level: debug, info,
// warning (or warn), error, critical; case-insensitive; "" means info.
// Every value is honoured exactly: a logger at "critical" drops errors.
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "", "info":
		return zapcore.InfoLevel, nil
	case "warning", "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	case "critical":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("logging: unknown log level %q (want debug, info, warning, error or critical)", s)
}

// levelName is zap's lower-case name, except that LevelCritical reads "critical".
func levelName(l zapcore.Level) string {
	if l == LevelCritical {
		return "critical"
	}
	return l.String()
}

// encodeLevel writes lower-case names (JSON lines).
func encodeLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(levelName(l))
}

// encodeCapitalLevel writes upper-case names (console lines).
func encodeCapitalLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(strings.ToUpper(levelName(l)))
}
