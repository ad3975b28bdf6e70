package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/backends/namespace"
	"github.com/bassareggiana/faldone/backends/s3"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/extract"
	"github.com/bassareggiana/faldone/gateway/config"
)

// OpenArchive opens the storage of every Comune as one tree, for the
// commands that look at the archive (a grant's dossier must exist).
func OpenArchive(ctx context.Context, cfg config.Config) (*namespace.Namespace, error) {
	ns, _, err := openArchive(ctx, cfg, nil)
	return ns, err
}

// openArchive opens the storage of every Comune, reporting S3 requests to
// observe (nil: nowhere), and joins them into the namespace; it returns
// the backends too, in the order of the configuration.
func openArchive(ctx context.Context, cfg config.Config, observe func(string, error, time.Duration)) (*namespace.Namespace, []backends.Backend, error) {
	var (
		mounts []namespace.Mount
		backs  []backends.Backend
	)
	for _, c := range cfg.Comuni {
		b, err := openStorage(ctx, c, cfg.S3, observe)
		if err != nil {
			return nil, nil, fmt.Errorf("comune %s: %w", c.ID, err)
		}
		mounts = append(mounts, namespace.Mount{Name: c.ID, Backend: b})
		backs = append(backs, b)
	}
	ns, err := namespace.New(mounts...)
	if err != nil {
		return nil, nil, err
	}
	return ns, backs, nil
}

// openStorage opens the storage of a Comune from its URL:
//
//	file:/srv/archivio/guastalla
//	s3://bucket/optional/prefix?endpoint=https://s3.example&region=eu-south-1&path_style=true
//
// S3 credentials come from the Comune's configuration when set, else from the
// standard AWS chain (environment, shared files).
func openStorage(ctx context.Context, c config.Comune, settings config.S3, observe func(string, error, time.Duration)) (backends.Backend, error) {
	u, err := url.Parse(c.Storage)
	if err != nil {
		return nil, fmt.Errorf("storage URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if p == "" {
			return nil, fmt.Errorf("storage URL %q names no folder", c.Storage)
		}
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("storage folder: %w", err)
		}
		return local.New(p)
	case "s3":
		q := u.Query()
		cfg := s3.Config{
			Bucket:    u.Host,
			Prefix:    strings.TrimPrefix(u.Path, "/"),
			Endpoint:  q.Get("endpoint"),
			Region:    q.Get("region"),
			AccessKey: c.AccessKeyID,
			SecretKey: c.SecretAccessKey,
			Observe:   observe,

			RequestTimeout: settings.RequestTimeout,
			StallTimeout:   settings.StallTimeout,
			NoChecksums:    !settings.UploadChecksums,
		}
		if cfg.Bucket == "" {
			return nil, fmt.Errorf("storage URL %q names no bucket", redact(u))
		}
		if v := q.Get("path_style"); v != "" {
			if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("storage URL %q: path_style: %w", redact(u), err)
			}
		}
		return s3.New(ctx, cfg)
	default:
		return nil, fmt.Errorf("storage URL %q: unsupported scheme (file or s3)", redact(u))
	}
}

// redact drops any user information from a URL before it is logged.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// ArchiveOptions are the archive service's options of cfg, for serve and
// for every command alike: the recycle bin's and the versions', how the
// storage keeps a closed dossier, and the catalogue that follows the
// changes (none when cat is nil).
func ArchiveOptions(cfg config.Config, cat *catalogue.Catalogue, log *slog.Logger) archive.Options {
	t := cfg.Trash
	o := archive.Options{
		Trash: archive.TrashOptions{Off: t.Disabled, Retention: t.Retention, MaxVersions: t.MaxVersions, VersionAge: t.VersionAge},
		Log:   log,
	}
	if cat != nil {
		o.Catalogue = cat
	}
	if cfg.Dossiers.ObjectLock == config.Compliance {
		o.Closing.Retention = cfg.Dossiers.Retention
	}
	return o
}

// Catalogue is the dossier catalogue of cfg on store.
func Catalogue(cfg config.Config, store catalogue.Store, log *slog.Logger) *catalogue.Catalogue {
	ids := make([]string, len(cfg.Comuni))
	for i, c := range cfg.Comuni {
		ids[i] = c.ID
	}
	var types []catalogue.Type
	for _, t := range cfg.Catalogue.Types {
		types = append(types, catalogue.Type{Name: t.Name, Prefixes: t.Prefixes})
	}
	return catalogue.New(store, catalogue.Options{Rule: catalogue.Rule{Depth: cfg.Catalogue.Depth}, Types: types, Comuni: ids,
		Indexable: extract.Supported, Log: log})
}
