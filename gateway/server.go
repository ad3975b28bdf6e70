// Package gateway assembles the Faldone server: configuration, storage
// mounts, state store, authentication and the WebDAV handler.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/backends/state"
	"github.com/bassareggiana/faldone/backends/state/sqlite"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/dav"
	"github.com/bassareggiana/faldone/gateway/namespace"
)

// Server is a configured gateway, ready to serve.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   state.Store
	handler http.Handler
}

// New opens the storage and the state store described by cfg, which must
// have been through cfg.Finish. extra adds local accounts (the demo's).
func New(ctx context.Context, cfg config.Config, log *slog.Logger, extra map[string]string) (*Server, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	var mounts []namespace.Mount
	for _, c := range cfg.Comuni {
		b, err := openStorage(c.Storage)
		if err != nil {
			return nil, fmt.Errorf("comune %s: %w", c.ID, err)
		}
		mounts = append(mounts, namespace.Mount{Name: c.ID, Backend: b})
	}
	ns, err := namespace.New(mounts...)
	if err != nil {
		return nil, err
	}
	if err := ns.Check(ctx); err != nil {
		return nil, fmt.Errorf("storage check: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "faldone.db"))
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	hashes := map[string]string{}
	for _, u := range cfg.Users {
		hashes[u.Name] = u.PasswordHash
	}
	for name, h := range extra {
		hashes[name] = h
	}
	if len(hashes) == 0 {
		log.Warn("no accounts are configured: every request will be refused")
	}
	accounts, err := auth.NewLocalAccounts(hashes)
	if err != nil {
		store.Close()
		return nil, err
	}
	principal := func(r *http.Request) string {
		id, _ := auth.FromContext(r.Context())
		return id.Name
	}
	d := dav.New(ns, store, log, principal, dav.Options{
		PublicHosts:        cfg.PublicHosts,
		AllowInfiniteDepth: cfg.WebDAV.AllowInfiniteDepth,
		MaxXMLBody:         cfg.WebDAV.MaxXMLBody,
		DefaultLockTimeout: cfg.WebDAV.DefaultLockTimeout,
		MaxLockTimeout:     cfg.WebDAV.MaxLockTimeout,
	})
	h := accessLog(log, auth.Basic(accounts, "Faldone", log, d))
	return &Server{cfg: cfg, log: log, store: store, handler: h}, nil
}

// openStorage opens a storage URL. Only local folders ("file:/path") exist
// for now.
func openStorage(u string) (backends.Backend, error) {
	if p, ok := strings.CutPrefix(u, "file:"); ok {
		p = strings.TrimPrefix(p, "//")
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("storage folder: %w", err)
		}
		return local.New(p)
	}
	return nil, fmt.Errorf("storage URL %q: unsupported scheme", u)
}

// Handler is the server's root HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully. ready, if not nil, receives the bound address.
func (s *Server) Serve(ctx context.Context, ready func(addr string)) error {
	defer s.store.Close()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 20 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("faldone listening", "addr", ln.Addr().String(), "data_dir", s.cfg.DataDir, "comuni", len(s.cfg.Comuni))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog logs one line per request and gives each an id, echoed in the
// X-Request-Id response header.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		ctx, ident := auth.WithSlot(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		user := ident.Name
		log.Info("request", "id", id, "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
			"bytes_out", rec.bytes, "bytes_in", r.ContentLength, "duration_ms", time.Since(start).Milliseconds(),
			"remote", r.RemoteAddr, "user", user)
	})
}
