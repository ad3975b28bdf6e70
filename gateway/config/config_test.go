package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadCase is a configuration file and environment, and what Load and
// Finish make of them: a configuration that check accepts, or an error
// mentioning wantErr.
type loadCase struct {
	name    string
	yaml    string
	env     map[string]string
	check   func(Config) bool
	wantErr string
}

func runLoadCases(t *testing.T, tests []loadCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := ""
			if tt.yaml != "" {
				path = filepath.Join(t.TempDir(), "faldone.yaml")
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path)
			if err == nil {
				err = c.Finish()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("unexpected configuration %+v", c)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "no file gives defaults", check: func(c Config) bool {
			return c.Listen == "127.0.0.1:8080" && len(c.Comuni) == 8 && c.Comuni[3].ID == "guastalla" &&
				strings.HasSuffix(c.Comuni[3].Storage, filepath.Join("archivio", "guastalla")) && c.WebDAV.MaxLockTimeout == 24*time.Hour
		}},
		{name: "file keys", yaml: "listen: 0.0.0.0:9000\nwebdav:\n  max_lock_timeout: 2h\ncomuni:\n  - id: boretto\n    storage: file:/srv/b\n",
			check: func(c Config) bool {
				return c.Listen == "0.0.0.0:9000" && c.WebDAV.MaxLockTimeout == 2*time.Hour && len(c.Comuni) == 1 && c.Comuni[0].Storage == "file:/srv/b" && c.Comuni[0].Name == "boretto"
			}},
		{name: "env overrides file", yaml: "listen: 0.0.0.0:9000\n", env: map[string]string{"FALDONE_LISTEN": "127.0.0.1:9001"},
			check: func(c Config) bool { return c.Listen == "127.0.0.1:9001" }},
		{name: "unknown key", yaml: "lisen: x\n", wantErr: "lisen"},
		{name: "bad comune id", yaml: "comuni:\n  - id: Guastalla\n", wantErr: "Guastalla"},
		{name: "duplicate comune", yaml: "comuni:\n  - id: a\n  - id: a\n", wantErr: "twice"},
		{name: "bad listen", yaml: "listen: nowhere\n", wantErr: "listen"},
		{name: "bad level", yaml: "log:\n  level: loud\n", wantErr: "log.level"},
		{name: "time zone by default Rome", check: func(c Config) bool {
			return c.Location != nil && c.Location.String() == "Europe/Rome"
		}},
		{name: "time zone from env", env: map[string]string{"FALDONE_TIME_ZONE": "UTC"}, check: func(c Config) bool {
			return c.Location == time.UTC || c.Location.String() == "UTC"
		}},
		{name: "bad time zone", yaml: "time_zone: Europe/Reggio\n", wantErr: "time_zone"},
		{name: "legal hold by default", check: func(c Config) bool { return c.Dossiers.ObjectLock == LegalHold }},
		{name: "compliance retention", yaml: "dossiers:\n  object_lock: compliance\n  retention: 87600h\n", check: func(c Config) bool {
			return c.Dossiers.ObjectLock == Compliance && c.Dossiers.Retention == 87600*time.Hour
		}},
		{name: "compliance without retention", yaml: "dossiers:\n  object_lock: compliance\n", wantErr: "dossiers.retention"},
		{name: "bad object lock", yaml: "dossiers:\n  object_lock: governance\n", wantErr: "dossiers.object_lock"},
		{name: "slow-client limits by default", check: func(c Config) bool {
			return c.WebDAV.BodyIdleTimeout == time.Minute && c.WebDAV.BodyMinRate == 500 && c.MaxConnsPerAddress == 128
		}},
		{name: "slow-client limits from the file", yaml: "max_conns_per_address: 0\nwebdav:\n  body_idle_timeout: 5s\n  body_min_rate: 0\n", check: func(c Config) bool {
			return c.WebDAV.BodyIdleTimeout == 5*time.Second && c.WebDAV.BodyMinRate == 0 && c.MaxConnsPerAddress == 0
		}},
		{name: "no body idle timeout", yaml: "webdav:\n  body_idle_timeout: 0s\n", wantErr: "body_idle_timeout"},
		{name: "negative min rate", yaml: "webdav:\n  body_min_rate: -1\n", wantErr: "body_min_rate"},
		{name: "upload checksums by default", check: func(c Config) bool { return c.S3.UploadChecksums }},
		{name: "upload checksums off", yaml: "s3:\n  upload_checksums: false\n", check: func(c Config) bool {
			return !c.S3.UploadChecksums && c.S3.RequestTimeout == 30*time.Second
		}},
		{name: "negative connection cap", yaml: "max_conns_per_address: -5\n", wantErr: "max_conns_per_address"},
		{name: "no scrub by default", check: func(c Config) bool {
			return c.Integrity.ScrubInterval == 0 && c.Integrity.ScrubRate == 20 && c.Integrity.ScrubBytesPerSecond() == 20e6
		}},
		{name: "scrub from the file", yaml: "integrity:\n  scrub_interval: 168h\n  scrub_rate: 2.5\n", check: func(c Config) bool {
			return c.Integrity.ScrubInterval == 7*24*time.Hour && c.Integrity.ScrubBytesPerSecond() == 2.5e6
		}},
		{name: "scrub from env over the file", yaml: "integrity:\n  scrub_interval: 168h\n",
			env: map[string]string{"FALDONE_INTEGRITY_SCRUB_INTERVAL": "24h", "FALDONE_INTEGRITY_SCRUB_RATE": "50"},
			check: func(c Config) bool {
				return c.Integrity.ScrubInterval == 24*time.Hour && c.Integrity.ScrubRate == 50
			}},
		{name: "scrub turned off from env", yaml: "integrity:\n  scrub_interval: 168h\n",
			env: map[string]string{"FALDONE_INTEGRITY_SCRUB_INTERVAL": "0s"}, check: func(c Config) bool { return c.Integrity.ScrubInterval == 0 }},
		{name: "bad scrub interval in env", env: map[string]string{"FALDONE_INTEGRITY_SCRUB_INTERVAL": "weekly"}, wantErr: "FALDONE_INTEGRITY_SCRUB_INTERVAL"},
		{name: "bad scrub rate in env", env: map[string]string{"FALDONE_INTEGRITY_SCRUB_RATE": "fast"}, wantErr: "FALDONE_INTEGRITY_SCRUB_RATE"},
		{name: "negative scrub interval", yaml: "integrity:\n  scrub_interval: -1h\n", wantErr: "integrity.scrub_interval"},
		{name: "no scrub rate", yaml: "integrity:\n  scrub_rate: 0\n", wantErr: "integrity.scrub_rate"},
		{name: "negative scrub rate", yaml: "integrity:\n  scrub_rate: -3\n", wantErr: "integrity.scrub_rate"},
		{name: "scrub rate not a number", env: map[string]string{"FALDONE_INTEGRITY_SCRUB_RATE": "NaN"}, wantErr: "integrity.scrub_rate"},
		{name: "infinite scrub rate", env: map[string]string{"FALDONE_INTEGRITY_SCRUB_RATE": "+Inf"}, wantErr: "integrity.scrub_rate"},
		{name: "scrub rate below a byte a second", yaml: "integrity:\n  scrub_rate: 0.0000001\n", wantErr: "integrity.scrub_rate"},
	})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "500MiB": 500 << 20, "2TB": 2e12, "1.5GiB": 3 << 29, "10 KB": 1e4} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1MB", "dieci"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
