package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// opsPaths are the operations endpoints. They come before authentication;
// config.Finish keeps these names from being Comuni.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// opsHandler serves /healthz (the process answers), /readyz (the state
// store and every bucket answer) and /metrics (Prometheus, from the
// addresses in metrics_allow only).
func (s *Server) opsHandler() http.Handler {
	var (
		mu      sync.Mutex
		checked time.Time
		lastErr error
	)
	// Probes come every few seconds from every load balancer: one check per
	// second at most reaches the storage.
	ready := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(checked) < time.Second {
			return lastErr
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var err error
		if _, serr := s.store.Locks(ctx, "/readyz", false, time.Now()); serr != nil {
			err = &notReady{what: "state store", err: serr}
		} else if cerr := s.ns.Check(ctx); cerr != nil {
			err = &notReady{what: "storage of " + strings.Join(s.ns.Down(), ", "), err: cerr}
		}
		checked, lastErr = time.Now(), err
		return err
	}
	metricsHandler := s.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
		case "/readyz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := ready(r.Context()); err != nil {
				s.log.Warn("not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				// What is out, by name, never the error's text.
				var nr *notReady
				if errors.As(err, &nr) {
					w.Write([]byte("not ready: " + nr.what + "\n"))
					return
				}
				w.Write([]byte("not ready\n"))
				return
			}
			w.Write([]byte("ready\n"))
		case "/metrics":
			if !s.metricsAllowed(r) {
				http.Error(w, "Forbidden", http.StatusForbidden)
				return
			}
			metricsHandler.ServeHTTP(w, r)
		}
	})
}

// notReady says what made the server unready, for /readyz's body.
type notReady struct {
	what string
	err  error
}

func (e *notReady) Error() string { return e.what + ": " + e.err.Error() }
func (e *notReady) Unwrap() error { return e.err }

// reviveInterval is how often the storage of the Comuni that are down is
// checked again: one listing of one key per second and Comune down, so
// that a Comune serves again within about a second of its storage.
const reviveInterval = time.Second

// reviveStorage checks the storage of the Comuni that are down until ctx
// ends, and logs each that comes back.
func (s *Server) reviveStorage(ctx context.Context) {
	t := time.NewTicker(reviveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		down := s.ns.Down()
		if len(down) == 0 {
			continue
		}
		s.ns.Revive(ctx)
		still := map[string]bool{}
		for _, name := range s.ns.Down() {
			still[name] = true
		}
		for _, name := range down {
			if !still[name] {
				s.log.Info("storage usable again", "comune", name)
			}
		}
	}
}

// metricsAllowed reports whether the client may read the metrics.
func (s *Server) metricsAllowed(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.cfg.MetricsAllowNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// staleUploadAborter is implemented by backends that can abort uploads a
// crash left behind (S3 multipart uploads).
type staleUploadAborter interface {
	AbortStaleUploads(ctx context.Context, olderThan time.Time) (int, error)
}

func (s *Server) abortStaleUploads(ctx context.Context, olderThan time.Time) {
	for _, b := range s.mounts {
		a, ok := b.(staleUploadAborter)
		if !ok {
			continue
		}
		n, err := a.AbortStaleUploads(ctx, olderThan)
		if err != nil && ctx.Err() == nil {
			s.log.Error("housekeeping: stale uploads", "err", err)
		}
		if n > 0 {
			s.log.Info("housekeeping: aborted stale uploads", "count", n)
		}
	}
}
