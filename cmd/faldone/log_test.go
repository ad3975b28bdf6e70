package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/gateway/config"
)

// TestLogDurations: both formats write a duration as Go's text, at the
// top level, in a group and through a logger's own attributes.
func TestLogDurations(t *testing.T) {
	for _, tt := range []struct {
		format string
		want   []string
	}{
		{"json", []string{`"grace":"30s"`, `"ttl":"1h30m0s"`, `"idle":"1.5s"`, `"wait":"250ms"`, `"n":3`}},
		{"text", []string{`grace=30s`, `ttl=1h30m0s`, `idle=1.5s`, `wait=250ms`, `n=3`}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			cfg := config.Default()
			cfg.Log.Format, cfg.Log.Level = tt.format, "info"
			log := newLogger(cfg, &b).With("idle", 1500*time.Millisecond)
			log.Info("shutting down", "grace", 30*time.Second, slog.Group("session", "ttl", 90*time.Minute),
				"wait", slog.AnyValue(250*time.Millisecond), "n", 3)
			line := b.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("%s log misses %s:\n%s", tt.format, w, line)
				}
			}
			if tt.format == "json" {
				var m map[string]any
				if err := json.Unmarshal(b.Bytes(), &m); err != nil {
					t.Fatalf("not one JSON object: %v\n%s", err, line)
				}
			}
		})
	}
}
