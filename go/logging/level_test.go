package logging

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    zapcore.Level
		wantErr bool
	}{
		{"debug", zapcore.DebugLevel, false},
		{"info", zapcore.InfoLevel, false},
		{"", zapcore.InfoLevel, false},
		{"warning", zapcore.WarnLevel, false},
		{"warn", zapcore.WarnLevel, false},
		{"error", zapcore.ErrorLevel, false},
		{"critical", LevelCritical, false},
		{" CRITICAL ", LevelCritical, false},
		{"Warning", zapcore.WarnLevel, false},
		{"fatal", 0, true},
		{"verbose", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// Each configured level shows exactly the messages at or above it.
func TestEachLevelFiltersExactly(t *testing.T) {
	all := []string{"DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"}
	tests := []struct {
		level string
		shown []string
	}{
		{"debug", all},
		{"info", all[1:]},
		{"warning", all[2:]},
		{"warn", all[2:]},
		{"error", all[3:]},
		{"critical", all[4:]},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			l, closeFn, err := New(Options{Level: tt.level, Console: &buf})
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("m-DEBUG")
			l.Info("m-INFO")
			l.Warn("m-WARN")
			l.Error("m-ERROR")
			Critical(l, "m-CRITICAL") // must not panic
			if err := closeFn(); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			for _, name := range all {
				want := contains(tt.shown, name)
				line := "\t" + name + "\t"
				if strings.Contains(got, line) != want || strings.Contains(got, "m-"+name) != want {
					t.Errorf("level %s: %s shown = %v, want %v\n%s", tt.level, name, !want, want, got)
				}
			}
		})
	}
}

func TestNewRejectsUnknownLevel(t *testing.T) {
	if _, _, err := New(Options{Level: "loud", Console: &bytes.Buffer{}}); err == nil {
		t.Fatal("New accepted level \"loud\"")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
