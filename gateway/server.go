// Package gateway wires the Faldone server: it reads the configuration,
// opens the Comuni's storage and the state store, builds the archive
// service, authentication, the WebDAV adapter and the pages over them, and
// runs the listener, the access log, housekeeping, the scheduled scrub and
// the ops endpoints (/healthz, /readyz, /metrics). It holds no rule of its
// own.
package gateway

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/quota"
	"github.com/bassareggiana/faldone/archive/scrub"
	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/namespace"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/extract"
	"github.com/bassareggiana/faldone/drawing/dxf"
	"github.com/bassareggiana/faldone/gateway/api"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/dav"
	"github.com/bassareggiana/faldone/gateway/forwarded"
	"github.com/bassareggiana/faldone/gateway/grants"
	"github.com/bassareggiana/faldone/gateway/metrics"
	"github.com/bassareggiana/faldone/gateway/notices"
	"github.com/bassareggiana/faldone/gateway/web"
	"github.com/bassareggiana/faldone/signature"
	"github.com/bassareggiana/faldone/signature/trust"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/postgres"
	"github.com/bassareggiana/faldone/state/sqlite"
)

// OpenStore opens the state store the configuration names (PostgreSQL, or
// the embedded SQLite in the data directory), for the server and for the
// commands that manage accounts, grants, locks and the audit log.
func OpenStore(ctx context.Context, cfg config.Config) (state.Store, error) {
	if cfg.StateURL != "" {
		st, err := postgres.Open(ctx, cfg.StateURL, postgres.Options{QueryTimeout: cfg.StateTimeout})
		if err != nil {
			return nil, fmt.Errorf("state store: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.DataDir, privateDir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, sqliteFile))
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	return st, nil
}

// sqliteFile is the embedded state store's database, in the data directory.
const sqliteFile = "faldone.db"

// auditSpool is the audit log's spool, in the data directory.
const auditSpool = "audit-spool"

// Server is a configured gateway, ready to serve.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   state.Store
	apps    *auth.AppPasswords
	audit   *audit.Log
	comunes comunes
	usage   *quota.Tracker
	metrics *metrics.Metrics
	mounts  []backends.Backend
	ns      *namespace.Namespace
	closers []io.Closer
	handler http.Handler
	tls     *tls.Config // nil: plain HTTP
	proxies forwarded.Proxies
	scrub   *scrub.Scrubber // nil: integrity.scrub_interval is 0
	archive *archive.Service
	// holder names this replica in the leases of housekeeping.
	holder string
	// indexer works the queue of the text index; nil when it is off.
	indexer *catalogue.Indexer
	// notices sends the service's e-mails; nil when mail is off. The
	// grant messages of the pages go out in the background, under
	// mailCtx, which the shutdown ends after a grace.
	notices    *notices.Notices
	mailCtx    context.Context
	mailCancel context.CancelFunc
}

// New opens the storage and the state store described by cfg, which must
// have been through cfg.Finish. extra adds local accounts (the demo's).
func New(ctx context.Context, cfg config.Config, log *slog.Logger, extra map[string]string) (*Server, error) {
	tc, err := tlsConfig(cfg.TLS, log)
	if err != nil {
		return nil, err
	}
	if err := prepareDataDir(cfg, log); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, tls: tc, holder: "serve-" + rand.Text()[:12]}
	var comuni []web.Comune
	m := metrics.New(func(ctx context.Context) (int, error) {
		locks, err := s.store.Locks(ctx, "/", true, time.Now())
		return len(locks), err
	})
	s.metrics = m
	ns, mounts, err := openArchive(ctx, cfg, m.S3)
	if err != nil {
		return nil, err
	}
	s.mounts = mounts
	for _, c := range cfg.Comuni {
		comuni = append(comuni, web.Comune{ID: c.ID, Name: c.Name})
	}
	// One Comune's storage that is missing or out must not take the
	// others down: its mount answers 503 until it passes a check.
	if err := ns.Check(ctx); err != nil {
		for _, name := range ns.Down() {
			log.Error("storage not usable: the Comune answers 503 until it is", "comune", name)
		}
		log.Error("storage check", "err", err)
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.store, s.ns = store, ns
	s.logKeepModes()
	if err := s.assemble(ctx, ns, comuni, extra); err != nil {
		store.Close()
		return nil, err
	}
	if s.scrub, err = s.newScrub(); err != nil {
		store.Close()
		return nil, err
	}
	s.indexer = s.newIndexer()
	return s, nil
}

// newIndexer makes the worker of the text index, unless it is off or
// poppler's pdftotext is missing, which the log says.
func (s *Server) newIndexer() *catalogue.Indexer {
	if s.cfg.Catalogue.IndexDisabled {
		s.log.Info("text index disabled (catalogue.index_disabled): dossiers are found by their records alone")
		return nil
	}
	x, err := extract.New(extract.Options{})
	if err != nil {
		s.log.Error("text index off: the words inside documents are not indexed (install poppler-utils)", "err", err)
		return nil
	}
	return catalogue.NewIndexer(s.store, s.archive.Reader(), x, catalogue.Rule{Depth: s.cfg.Catalogue.Depth}, catalogue.IndexerOptions{
		Holder:    s.holder,
		Supported: extract.Supported,
		NoText: func(err error) bool {
			return errors.Is(err, extract.ErrNoText) || errors.Is(err, extract.ErrUnsupported) || errors.Is(err, extract.ErrTooLarge)
		},
		Log: s.log,
	})
}

// newScrub makes the scheduled scrub of every Comune, reporting to the log
// and the metrics; nil when integrity.scrub_interval is 0.
func (s *Server) newScrub() (*scrub.Scrubber, error) {
	in := s.cfg.Integrity
	if in.ScrubInterval <= 0 {
		return nil, nil
	}
	ids := make([]string, len(s.cfg.Comuni))
	for i, c := range s.cfg.Comuni {
		ids[i] = c.ID
	}
	var kinds []string
	for _, k := range verify.Kinds() {
		kinds = append(kinds, string(k))
	}
	s.metrics.ScrubComuni(ids, kinds)
	return scrub.New(s.ns, s.store, ids, scrub.Options{
		Interval: in.ScrubInterval,
		Rate:     in.ScrubBytesPerSecond(),
		Log:      s.log,
		Checked:  func(comune, _ string, size int64) { s.metrics.ScrubFile(comune, size) },
		Problem:  func(comune string, p verify.Problem) { s.metrics.ScrubProblem(comune, string(p.Kind)) },
		Passed:   s.metrics.ScrubPass,
	})
}

// assemble builds the handler chain: access log, then either the pages
// (under /_/) or authentication and WebDAV.
func (s *Server) assemble(ctx context.Context, ns *namespace.Namespace, comuni []web.Comune, extra map[string]string) error {
	cfg, log := s.cfg, s.log
	key, err := loadOrCreateKey(cfg.SecretFile)
	if err != nil {
		return err
	}
	if s.apps, err = auth.NewAppPasswords(s.store, key, log); err != nil {
		return err
	}
	hashes := map[string]string{}
	for _, u := range cfg.Users {
		hashes[u.Name] = u.PasswordHash
	}
	for name, h := range extra {
		hashes[name] = h
	}
	authn := &auth.Authenticator{
		Apps:     s.apps,
		Sessions: auth.NewSessions(s.store, cfg.Sessions.Idle, cfg.Sessions.Absolute),
		Throttle: auth.NewThrottle(s.store),
		Realm:    "Faldone",
		Failed:   s.metrics.AuthFailure,
		SignIn:   "/_/accedi",
		Log:      log,
	}
	if authn.Local, err = auth.NewLocalAccounts(hashes, s.store); err != nil {
		return err
	}
	var rp *oidc.RP
	if cfg.OIDC.Issuer != "" {
		if rp, err = newRP(ctx, cfg.OIDC); err != nil {
			return err
		}
		authn.Bearer = func(ctx context.Context, token string) (auth.Identity, error) {
			p, err := rp.VerifyBearer(ctx, token)
			if err != nil {
				return auth.Identity{}, err
			}
			return auth.Identity{Name: p.FiscalNumber, Display: p.FiscalNumber, Method: "bearer", Credential: "bearer", ACR: p.ACR}, nil
		}
	}
	if len(hashes) == 0 && rp == nil {
		log.Info("no sign-in provider and no configured accounts: only accounts made with `faldone user add` can sign in")
	}
	lines, closeLines, err := audit.OpenLines(*cfg.Audit.File, os.Stdout)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, closeLines)
	ids := make([]string, len(cfg.Comuni))
	for i, c := range cfg.Comuni {
		ids[i] = c.ID
	}
	s.comunes = newComunes(ids)
	s.audit, err = audit.Open(audit.Options{
		Dir: filepath.Join(cfg.DataDir, auditSpool), Lines: lines, MaxBytes: cfg.Audit.SpoolMaxBytes,
		ShipTimeout: cfg.Audit.ShipTimeout, Log: log,
	}, s.store)
	if err != nil {
		return err
	}
	s.metrics.AuditBacklog(s.audit.Backlog)
	quotas := map[string]int64{}
	for _, c := range cfg.Comuni {
		if c.QuotaBytes > 0 {
			quotas[c.ID] = c.QuotaBytes
		}
	}
	s.usage = quota.New(ns, quotas, cfg.WebDAV.UsageInterval, log)
	write, err := access.NewWriteLevel(cfg.Access.MinWriteACR)
	if err != nil {
		return err
	}
	ac := accessConfig(cfg, write)
	ac.Observe = s.metrics.Store
	rl := access.NewRules(ac, s.store)
	wc := web.Config{
		Sessions: authn.Sessions, Apps: s.apps, RP: rp, People: s.store,
		WriteLevel: write,
		Grants:     s.store,
		Locks:      s.store,
		Dossiers:   s.store,
		Manages:    rl.Manages,
		Policy: func(ctx context.Context, sess state.Session) (web.Decider, error) {
			pol, err := rl.Policy(ctx, auth.SessionIdentity(sess))
			if err != nil {
				return nil, err // not a nil *access.Policy in a non-nil Decider
			}
			return pol, nil
		},
		AuditTarget: func(r *http.Request, person, method, p, target string, status int) {
			// A page's action, on a path of its own, not the page's URL.
			rec := s.comunes.record(r, time.Now(), person, "session", method, p, status, 0)
			rec.Target, rec.Destination = target, ""
			if err := s.audit.Record(rec); err != nil {
				log.Error("audit: record not written", "request_id", rec.RequestID, "err", err)
			}
		},
		Flows:           web.FlowStore{Store: s.store, TTL: web.FlowTTL},
		Once:            s.store,
		Comuni:          comuni,
		DefaultExpiry:   cfg.AppPasswords.DefaultExpiry,
		Site:            siteOf(cfg),
		Quota:           s.usage,
		ZipConfirmAbove: cfg.Pages.ZipConfirmAboveBytes,
		DrawingLimits:   dxf.Limits{MaxBytes: cfg.Pages.DrawingPreviewMaxBytes, MaxItems: cfg.Pages.DrawingPreviewEntities},
		CIEHint:         cfg.OIDC.CIEHint,
		Location:        cfg.Location,
		Log:             log,
	}
	for _, p := range cfg.OIDC.Providers {
		wc.Providers = append(wc.Providers, web.Provider{Name: p.Name, Hint: p.Hint})
	}
	roots, err := trust.New(trust.Sources{Dir: cfg.Signatures.TrustDir, List: cfg.Signatures.TrustedList, CRLs: cfg.Signatures.CRLDir},
		cfg.Signatures.CheckInterval, log)
	if err != nil {
		return fmt.Errorf("signatures: %w", err)
	}
	if !roots.Configured() {
		log.Warn("signatures: no trust store configured (signatures.trust_dir, signatures.trusted_list): signers are shown, their certificates not verified")
	}
	wc.Signatures = &signature.Inspector{Trust: roots}
	wc.IndexStatus = s.store.IndexStatus
	wc.Audit = func(r *http.Request, person, method, p string, status int) {
		wc.AuditTarget(r, person, method, p, "", status)
	}
	wc.Password = authn.Password
	principal := func(r *http.Request) string {
		id, _ := auth.FromContext(r.Context())
		return id.Name
	}
	// One service runs every change to the archive, for WebDAV and the
	// pages alike; what it changes, the WebDAV handler's cache of missing
	// names forgets.
	var d *dav.Handler
	cat := Catalogue(cfg, s.store, log)
	opts := ArchiveOptions(cfg, cat, log)
	opts.Quota, opts.OnUpload, opts.Log = s.usage, s.metrics.Upload, log
	opts.Changed = func(p string, tree bool) { d.Forget(p, tree) }
	svc := archive.New(ns, s.store, opts)
	s.archive = svc
	wc.Archive = svc
	wc.Catalogue = cat
	wc.GrantRules = &grants.Service{Store: s.store, Archive: ns, Audit: s.audit, Location: cfg.Location}
	if s.notices, err = Notices(cfg, s.store, rl.Manages, s.holder, log); err != nil {
		return err
	}
	if s.notices != nil {
		s.mailCtx, s.mailCancel = context.WithCancel(context.Background())
		wc.GrantRules.Notify = s.notices.Later(s.mailCtx)
		m := cfg.Mail
		log.Info("e-mail on", "smtp_host", m.SMTPHost, "smtp_port", m.SMTPPort, "tls", m.TLS, "expiry_warning_days", m.ExpiryWarningDays,
			"summary_hour", m.SummaryHour, "summary_interval", m.SummaryInterval, "summary_disabled", m.SummaryDisabled)
	}
	wc.Previews = Previews(cfg, log)
	pages, err := web.New(wc)
	if err != nil {
		return err
	}
	d = dav.New(svc, s.store, log, principal, davPolicy(rl), dav.Options{
		PublicHosts:        cfg.PublicHosts,
		AllowInfiniteDepth: cfg.WebDAV.AllowInfiniteDepth,
		MaxXMLBody:         cfg.WebDAV.MaxXMLBody,
		DefaultLockTimeout: cfg.WebDAV.DefaultLockTimeout,
		MaxLockTimeout:     cfg.WebDAV.MaxLockTimeout,
		Quota:              s.usage,
		FolderPage:         web.FolderPages,
		// A person's browser that opens a path of the drive which fails
		// gets a page, as it gets for the pages' own failures.
		ErrorPage: pages.DrivePage,
	})
	authn.ErrorPage = pages.DrivePage
	drive := authn.Wrap(d)
	endpoints := authn.Wrap(api.New(api.Config{
		Catalogue: cat,
		Policy: func(r *http.Request) (*access.Policy, error) {
			id, _ := auth.FromContext(r.Context())
			return rl.Policy(r.Context(), id)
		},
		Audit: func(r *http.Request, method, target string, status int) {
			id, _ := auth.FromContext(r.Context())
			rec := s.comunes.record(r, time.Now(), id.Name, id.Credential, method, "/", status, 0)
			rec.Target, rec.Destination = target, ""
			if err := s.audit.Record(rec); err != nil {
				log.Error("audit: record not written", "request_id", rec.RequestID, "err", err)
			}
		},
		Comuni: ids,
		Log:    log,
	}))
	proxies, err := forwarded.Parse(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	// First of all, so that everything after it sees the client's address,
	// host and scheme (behind a trusted proxy) or no forwarding headers.
	ops := s.opsHandler()
	s.handler = proxies.Handler(accessLog(log, s.audit, s.comunes, s.metrics, pages.DrivePage, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, api.Prefix) {
			endpoints.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, web.Prefix) {
			pages.ServeHTTP(w, r)
			return
		}
		if opsPaths[r.URL.Path] {
			ops.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == faviconPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			pages.Favicon(w, r)
			return
		}
		drive.ServeHTTP(w, r)
	})))
	s.proxies = proxies
	s.handler = bodyLimits{idle: cfg.WebDAV.BodyIdleTimeout, minRate: cfg.WebDAV.BodyMinRate, log: log}.handler(s.handler)
	if s.tls != nil {
		s.handler = hsts(s.handler)
	}
	return nil
}

// siteOf is what the pages say of the service, from its configuration.
func siteOf(cfg config.Config) web.Site {
	p := cfg.Pages
	return web.Site{Owner: p.Owner, OwnerURL: p.OwnerURL, Service: p.Service,
		HelpText: p.HelpText, HelpEmail: p.HelpEmail, HelpPhone: p.HelpPhone,
		AccessibilityURL: p.AccessibilityURL, AccessibilityEmail: p.AccessibilityEmail,
		PrivacyController: p.PrivacyController, PrivacyDPOEmail: p.PrivacyDPOEmail,
		AuditRetention: cfg.Audit.Retention}
}

// newRP connects to the OpenID Provider.
func newRP(ctx context.Context, c config.OIDC) (*oidc.RP, error) {
	rc := oidc.Config{
		Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret, KeyID: c.KeyID,
		RedirectURL: c.RedirectURL, Scopes: c.Scopes, ACRValues: c.ACRValues, MinACR: c.MinACR,
		BearerAudience: c.BearerAudience, HintParam: c.HintParam,
		Claims: oidc.ClaimNames{FiscalNumber: c.Claims.FiscalNumber, GivenName: c.Claims.GivenName,
			FamilyName: c.Claims.FamilyName, Email: c.Claims.Email, Groups: c.Claims.Groups, ACR: c.Claims.ACR},
	}
	if c.PrivateKeyFile != "" {
		k, err := readPrivateKey(c.PrivateKeyFile)
		if err != nil {
			return nil, err
		}
		rc.PrivateKey = k
	}
	rp, err := oidc.New(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("OpenID Provider %s: %w", c.Issuer, err)
	}
	return rp, nil
}

func readPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oidc private key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("oidc private key: no PEM block")
	}
	var k any
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("oidc private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("oidc private key: not a signing key")
	}
	return signer, nil
}

// loadOrCreateKey reads the server key, making it on first start.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("secret file %s: want at least 32 bytes, hex-encoded", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret file: %w", err)
	}
	return key, f.Close()
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
	ln = limitPerAddress(ln, s.cfg.MaxConnsPerAddress, s.proxies.Trusts, s.log)
	// Requests run under a context that outlives the shutdown signal by the
	// grace period: uploads under way may finish, and are then cancelled,
	// which aborts them cleanly on the storage.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		Handler:           s.handler,
		ReadHeaderTimeout: 20 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         s.tls,
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go s.apps.Run(bg, time.Minute)
	s.audit.Start()
	go s.housekeeping(bg)
	// Waited for: a pass stopped by the shutdown releases its lease, for
	// another replica to take the Comune at once, before the store closes.
	scrubbing := make(chan struct{})
	if s.scrub != nil {
		go func() {
			defer close(scrubbing)
			s.scrub.Run(bg)
		}()
		s.log.Info("scrub scheduled", "interval", s.cfg.Integrity.ScrubInterval, "rate_mb_s", s.cfg.Integrity.ScrubRate)
	} else {
		close(scrubbing)
	}
	defer func() { stopBG(); <-scrubbing }()
	go s.usage.Run(bg)
	go s.reviveStorage(bg)
	if s.indexer != nil {
		go s.indexer.Run(bg)
	}
	if s.notices != nil {
		// Waited for, as the scrub: a check under way records what it
		// sent before the store closes.
		checking := make(chan struct{})
		go func() {
			defer close(checking)
			s.notices.Run(bg)
		}()
		defer func() { stopBG(); <-checking; s.stopMail() }()
	}
	s.log.Info("faldone listening", "addr", ln.Addr().String(), "tls", s.tls != nil, "data_dir", s.cfg.DataDir, "comuni", len(s.cfg.Comuni))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			// The certificate comes from TLSConfig.GetCertificate, hence no
			// files here; ServeTLS also offers HTTP/2.
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("grace period over: cancelling the requests still running", "err", err)
		cancelRequests()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := srv.Shutdown(cctx); err != nil {
			srv.Close()
		}
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopBG()
	// Records that did not reach the store in time stay in the spool for
	// the next start.
	s.audit.Close(5 * time.Second)
	for _, c := range s.closers {
		c.Close()
	}
	return s.apps.Flush(context.Background())
}

// stopMail lets the grant messages under way finish, for a while, then
// cancels them.
func (s *Server) stopMail() {
	done := make(chan struct{})
	go func() {
		s.notices.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("e-mail: grant messages still being sent at shutdown: cancelled")
		s.mailCancel()
		<-done
	}
	s.mailCancel()
}

// housekeeping removes what has expired: sessions, flows, app passwords and
// audit records past their retention. Every hour, and once at start.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if err := s.store.DeleteExpired(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Error("housekeeping: expired records", "err", err)
		}
		if err := s.store.DeleteAuditBefore(ctx, now.Add(-s.cfg.Audit.Retention)); err != nil && ctx.Err() == nil {
			s.log.Error("housekeeping: audit retention", "err", err)
		}
		s.abortStaleUploads(ctx, now.Add(-s.cfg.WebDAV.StaleUploadAge))
		s.purgeTrash(ctx, now)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// trashLease is the lease of the recycle bin's retention purge: one
// replica at a time lets go what the retention no longer keeps.
const trashLease = "trash-purge"

// purgeTrash runs the retention of the recycle bin and the versions, if
// no other replica is running it.
func (s *Server) purgeTrash(ctx context.Context, now time.Time) {
	if s.cfg.Trash.Disabled || s.archive == nil {
		return
	}
	ok, err := s.store.TakeLease(ctx, trashLease, s.holder, time.Hour, now)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Error("housekeeping: recycle bin lease", "err", err)
		}
		return
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.store.ReleaseLease(rctx, trashLease, s.holder); err != nil {
			s.log.Error("housekeeping: release the recycle bin lease", "err", err)
		}
	}()
	n, err := s.archive.PurgeExpired(ctx, now)
	if err != nil && ctx.Err() == nil {
		s.log.Error("housekeeping: recycle bin retention", "purged", n, "err", err)
	}
	if n > 0 {
		s.log.Info("housekeeping: recycle bin retention", "purged", n, "retention", s.cfg.Trash.Retention, "version_age", s.cfg.Trash.VersionAge)
	}
}

// logKeepModes says how each Comune keeps what is deleted or replaced.
func (s *Server) logKeepModes() {
	if s.cfg.Trash.Disabled {
		s.log.Warn("recycle bin disabled: deletes and overwrites are for good")
		return
	}
	modes := s.ns.KeepModes()
	for _, comune := range slices.Sorted(maps.Keys(modes)) {
		s.log.Info("recycle bin", "comune", comune, "mode", modes[comune], "retention", s.cfg.Trash.Retention)
	}
}

// faviconPath is where browsers look for a site's icon by themselves,
// before any sign-in: the pages' icon, not a path of the drive (no Comune
// has a dot in its id).
const faviconPath = "/favicon.ico"

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

// serveRecovered serves r with next and turns a panic into a log line
// with its stack (for operators) and a 500 answer (a page in Italian for a
// person's browser), never the panic's text. It reports whether the answer
// had already begun, so that only the connection's end can say it failed.
func serveRecovered(log *slog.Logger, id string, page func(http.ResponseWriter, *http.Request, int) bool, next http.Handler, rec *statusRecorder, r *http.Request) (begun bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v) // a handler's own way to cut the answer short
		}
		log.Error("panic while serving a request", "id", id, "method", r.Method, "path", r.URL.EscapedPath(),
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if rec.status != 0 {
			begun = true
			return
		}
		if page == nil || !page(rec, r, http.StatusInternalServerError) {
			http.Error(rec, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
	}()
	next.ServeHTTP(rec, r)
	return false
}

// accessLog logs one line per request, gives each an id, echoed in the
// X-Request-Id response header, and records every request to the archive
// (every one but the pages and OPTIONS) in the audit log, refusals
// included, before the answer is complete. A request the log could not
// record (its spool full or failing) is refused 503 before it is served,
// with page's answer when page gives one (a person's browser).
func accessLog(log *slog.Logger, aud *audit.Log, cs comunes, m *metrics.Metrics, page func(http.ResponseWriter, *http.Request, int) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		audited := aud != nil && r.Method != http.MethodOptions && !strings.HasPrefix(r.URL.Path, web.Prefix) && !opsPaths[r.URL.Path] &&
			r.URL.Path != faviconPath
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		ctx, ident := auth.WithSlot(audit.WithNote(audit.WithRequestID(r.Context(), id)))
		r = r.WithContext(ctx) // for the handlers and for the record alike
		if audited && !aud.Accepting() {
			log.Error("audit log not taking records: request refused", "id", id, "method", r.Method, "backlog_bytes", aud.Backlog())
			rec.Header().Set("Retry-After", "10")
			if page == nil || !page(rec, r, http.StatusServiceUnavailable) {
				http.Error(rec, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			}
			audited = false
		} else if serveRecovered(log, id, page, next, rec, r) {
			// The answer had begun: end the connection, as net/http does,
			// so that the client sees it cut short, not complete — once the
			// request is logged and recorded.
			defer panic(http.ErrAbortHandler)
		}
		m.Request(r.Method, rec.status, time.Since(start), r.ContentLength, rec.bytes)
		log.Info("request", "id", id, "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
			"bytes_out", rec.bytes, "bytes_in", r.ContentLength, "duration_ms", time.Since(start).Milliseconds(),
			"remote", r.RemoteAddr, "user", ident.Name, "credential", ident.Credential)
		if !audited {
			return
		}
		n := rec.bytes
		if r.Method == http.MethodPut && r.ContentLength > 0 {
			n = r.ContentLength
		}
		if err := aud.Record(cs.record(r, start, ident.Name, ident.Credential, r.Method, r.URL.Path, rec.status, n)); err != nil {
			log.Error("audit: record not written", "id", id, "err", err)
		}
	})
}
