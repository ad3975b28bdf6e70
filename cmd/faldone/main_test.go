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

// TestDemoInstructions: the rclone mount the demo prints keeps a cache for
// writes, without which programs cannot save on the mount.
func TestDemoInstructions(t *testing.T) {
	var b bytes.Buffer
	demoInstructions(&b, "http://127.0.0.1:8080/", "demo", "faldone-demo")
	var rclone string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "rclone mount") {
			rclone = l
		}
	}
	for _, want := range []string{"--webdav-url http://127.0.0.1:8080/", "--webdav-user demo", "--vfs-cache-mode writes"} {
		if !strings.Contains(rclone, want) {
			t.Errorf("the rclone line misses %s: %q", want, rclone)
		}
	}
}
