// Package config loads the gateway's configuration: defaults, then a YAML
// file, then FALDONE_* environment variables; command-line flags are applied
// last by the caller.
package config

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	// The zone database inside the binary: minimal servers and containers
	// often have no /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"github.com/bassareggiana/faldone/auth/access"
)

// Config is the whole configuration. The README documents every key.
type Config struct {
	Listen      string   `yaml:"listen"`
	DataDir     string   `yaml:"data_dir"`
	PublicHosts []string `yaml:"public_hosts"`
	Log         Log      `yaml:"log"`
	WebDAV      WebDAV   `yaml:"webdav"`
	S3          S3       `yaml:"s3"`
	Comuni      []Comune `yaml:"comuni"`
	Users       []User   `yaml:"users"`
	// StateURL names the shared state store of several replicas,
	// postgres://…; empty: the embedded SQLite in the data directory.
	StateURL string `yaml:"state_url"`
	// StateTimeout bounds each query to the shared state store: a database
	// that does not answer makes requests 503 after it, not hang.
	StateTimeout time.Duration `yaml:"state_timeout"`
	// SecretFile holds the server's key for app-password hashes: 32 random
	// bytes, made on first start. Replicas must share it.
	SecretFile   string       `yaml:"secret_file"`
	OIDC         OIDC         `yaml:"oidc"`
	Sessions     Sessions     `yaml:"sessions"`
	AppPasswords AppPasswords `yaml:"app_passwords"`
	Access       Access       `yaml:"access"`
	Audit        Audit        `yaml:"audit"`
	Integrity    Integrity    `yaml:"integrity"`
	Trash        Trash        `yaml:"trash"`
	Dossiers     Dossiers     `yaml:"dossiers"`
	Catalogue    Catalogue    `yaml:"catalogue"`
	Pages        Pages        `yaml:"pages"`
	Previews     Previews     `yaml:"previews"`
	Mail         Mail         `yaml:"mail"`
	Signatures   Signatures   `yaml:"signatures"`
	// TLS turns HTTPS on; TrustedProxies are the reverse proxies whose
	// X-Forwarded-* headers are believed (IP addresses or CIDR prefixes).
	TLS            TLS      `yaml:"tls"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxConnsPerAddress caps the connections open at once from one client
	// address (an IPv6 /64), trusted proxies exempt; 0: no cap.
	MaxConnsPerAddress int `yaml:"max_conns_per_address"`
	// MetricsAllow are the addresses (IPs or CIDR prefixes) that may read
	// /metrics; default loopback only.
	MetricsAllow     []string     `yaml:"metrics_allow"`
	MetricsAllowNets []*net.IPNet `yaml:"-"`
	// ShutdownGrace is how long a stopping server lets requests under way
	// (uploads) finish before it cancels them.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// TimeZone is the IANA zone in which pages and commands show times and
	// read days ("until 2027-03-31" ends at midnight there): the people of
	// the Unione live in Italy whatever zone the server keeps.
	TimeZone string         `yaml:"time_zone"`
	Location *time.Location `yaml:"-"`
}

// TLS serves HTTPS with the certificate and key in two PEM files, reloaded
// when they change. Off while CertFile is empty.
type TLS struct {
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	MinVersion string `yaml:"min_version"` // "1.2" or "1.3"
}

// Enabled reports whether the server speaks HTTPS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// MinTLSVersion is min_version as a crypto/tls constant; 0 when it is
// neither "1.2" nor "1.3" (older versions are broken, and Go refuses them).
func (t TLS) MinTLSVersion() uint16 {
	switch t.MinVersion {
	case "1.2":
		return tls.VersionTLS12
	case "1.3":
		return tls.VersionTLS13
	}
	return 0
}

// Access says who has which role on which Comune. Grants to single
// dossiers live in the state store (faldone grant, or the managers' page).
type Access struct {
	// Admins have every right on every Comune: fiscal numbers or local
	// account names.
	Admins      []string     `yaml:"admins"`
	Assignments []Assignment `yaml:"assignments"`
	GroupRules  []GroupRule  `yaml:"group_rules"`
	// MinWriteACR is the lowest SPID level a session or token needs to
	// write; lower ones read only. Empty: no such limit.
	MinWriteACR string `yaml:"min_write_acr"`
}

// Assignment gives a person (fiscal number or local account) a role on a
// Comune.
type Assignment struct {
	Person string `yaml:"person"`
	Comune string `yaml:"comune"` // a Comune id, or "*" for all
	Role   string `yaml:"role"`   // reader, editor or manager
}

// GroupRule gives the members of provider groups a role: Group is a group
// name, where "*" matches any run of characters.
type GroupRule struct {
	Group  string `yaml:"group"`
	Comune string `yaml:"comune"`
	Role   string `yaml:"role"`
	Admin  bool   `yaml:"admin"`
}

// Audit configures the access log.
type Audit struct {
	// File receives every record as a JSON line as well: a path, "-" for
	// standard output, "" for none. Default <data_dir>/audit.jsonl.
	File *string `yaml:"file"`
	// Retention is how long records stay in the state store.
	Retention time.Duration `yaml:"retention"`
	// SpoolMaxBytes bounds the records the spool in <data_dir>/audit-spool
	// holds while the state store does not take them; past it, requests
	// to the archive are refused 503 rather than served unrecorded.
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
	// ShipTimeout bounds each write of records to the state store.
	ShipTimeout time.Duration `yaml:"ship_timeout"`
}

// Integrity configures the scheduled scrub of `serve`: the files of each
// Comune read again and compared with their recorded SHA-256, as `faldone
// verify` does, every ScrubInterval; replicas divide the Comuni (a lease
// each in the state store).
type Integrity struct {
	// ScrubInterval is how often each Comune is scrubbed; 0: never, the
	// default.
	ScrubInterval time.Duration `yaml:"scrub_interval"`
	// ScrubRate bounds the reading of one replica's scrub, in MB (10^6
	// bytes) per second, so that it leaves the storage to the people.
	ScrubRate float64 `yaml:"scrub_rate"`
}

// Trash configures the recycle bin (cestino) and the previous versions of
// files: what a delete removes and what a write replaces is kept, out of
// sight, for a while.
type Trash struct {
	// Disabled: deletes and overwrites are for good.
	Disabled bool `yaml:"disabled"`
	// Retention is how long the recycle bin keeps what was deleted.
	Retention time.Duration `yaml:"retention"`
	// MaxVersions is how many earlier versions a file keeps.
	MaxVersions int `yaml:"max_versions"`
	// VersionAge is how long a version is kept.
	VersionAge time.Duration `yaml:"version_age"`
}

// Dossiers configures how the storage itself keeps a closed dossier, where
// a Comune's bucket has S3 Object Lock.
type Dossiers struct {
	// ObjectLock is "legal_hold" (the default: every version held until
	// an administrator reopens the dossier) or "compliance" (a compliance
	// retention of Retention from the closing, which nobody lifts or
	// shortens, a reopening included).
	ObjectLock string `yaml:"object_lock"`
	// Retention is how long a compliance retention lasts.
	Retention time.Duration `yaml:"retention"`
}

// Catalogue configures the dossier catalogue.
type Catalogue struct {
	// Depth is the level of the dossier folders below the root: 3 is
	// /<comune>/<anno>/<numero>.
	Depth int `yaml:"depth"`
	// Types are the kinds of dossier, each with the starts of the numbers
	// that tell it; empty: catalogue.DefaultTypes.
	Types []CatalogueType `yaml:"types"`
	// Columns maps other names of a register's columns to the Italian
	// ones (faldone catalogue import), e.g. "N. pratica: numero".
	Columns map[string]string `yaml:"columns"`
	// IndexDisabled: no text is extracted from the documents.
	IndexDisabled bool `yaml:"index_disabled"`
}

// Previews are the images of the pages of TIFF scans, PDFs and pictures
// that the file pages, the viewer and the folder pages' thumbnails show,
// rendered by libvips and poppler and kept on disk.
type Previews struct {
	Disabled bool `yaml:"disabled"`
	// CacheDir holds the rendered pages and the work files; default
	// <data_dir>/previews.
	CacheDir string `yaml:"cache_dir"`
	// CacheSize bounds the rendered pages kept ("1GiB"), the least
	// recently shown dropped first.
	CacheSize      string `yaml:"cache_size"`
	CacheSizeBytes int64  `yaml:"-"`
	// MaxFileSize bounds a PDF or picture copied whole to render it
	// ("1GiB"); TIFFs are read a page at a time and need no copy.
	MaxFileSize      string `yaml:"max_file_size"`
	MaxFileSizeBytes int64  `yaml:"-"`
	// ThumbnailMaxCopy bounds the PDF or picture copied for a folder
	// page's thumbnail alone ("64MiB"): larger ones show their type's icon.
	ThumbnailMaxCopy      string `yaml:"thumbnail_max_copy"`
	ThumbnailMaxCopyBytes int64  `yaml:"-"`
	// Concurrency is the renders that run at once.
	Concurrency int `yaml:"concurrency"`
	// Timeout bounds one run of a tool; Memory its address space ("1GiB").
	Timeout     time.Duration `yaml:"timeout"`
	Memory      string        `yaml:"memory"`
	MemoryBytes int64         `yaml:"-"`
}

func (p *Previews) validate() error {
	for _, s := range []struct {
		key  string
		text *string
		to   *int64
	}{{"cache_size", &p.CacheSize, &p.CacheSizeBytes}, {"max_file_size", &p.MaxFileSize, &p.MaxFileSizeBytes},
		{"thumbnail_max_copy", &p.ThumbnailMaxCopy, &p.ThumbnailMaxCopyBytes}, {"memory", &p.Memory, &p.MemoryBytes}} {
		n, err := ParseSize(*s.text)
		if err != nil || n <= 0 {
			return fmt.Errorf("previews.%s %q: want a size, such as 1GiB", s.key, *s.text)
		}
		*s.to = n
	}
	if p.MemoryBytes < 64<<20 {
		return errors.New("previews.memory: at least 64MiB")
	}
	if p.Concurrency < 1 || p.Concurrency > 64 {
		return errors.New("previews.concurrency: from 1 to 64")
	}
	if p.Timeout <= 0 {
		return errors.New("previews.timeout must be positive")
	}
	return nil
}

// Pages are the texts of the pages that are the service's own: who runs
// it, where to ask for help, the accessibility statement and the privacy
// notice. Each has a default.
type Pages struct {
	Owner    string `yaml:"owner"`     // "Unione dei Comuni della Bassa Reggiana"
	OwnerURL string `yaml:"owner_url"` // its site, linked from the header
	Service  string `yaml:"service"`   // "Archivio pratiche edilizie"
	// Help is where people ask: a line of text, an e-mail, a telephone.
	HelpText  string `yaml:"help_text"`
	HelpEmail string `yaml:"help_email"`
	HelpPhone string `yaml:"help_phone"`
	// AccessibilityURL is the statement as published on AgID's form.agid.gov.it;
	// AccessibilityEmail receives the feedback L. 4/2004 provides for.
	AccessibilityURL   string `yaml:"accessibility_url"`
	AccessibilityEmail string `yaml:"accessibility_email"`
	// The privacy notice: who controls the data, the data protection
	// officer's contact.
	PrivacyController string `yaml:"privacy_controller"`
	PrivacyDPOEmail   string `yaml:"privacy_dpo_email"`
	// ZipConfirmAbove: a folder's ZIP larger than this ("2GiB") is asked
	// for again, with its size, before it starts.
	ZipConfirmAbove      string `yaml:"zip_confirm_above"`
	ZipConfirmAboveBytes int64  `yaml:"-"`
	// DrawingPreviewMax: a DXF drawing larger than this ("64MiB") is not
	// previewed; DrawingPreviewEntities bounds the entities drawn, block
	// references expanded (200000).
	DrawingPreviewMax      string `yaml:"drawing_preview_max"`
	DrawingPreviewMaxBytes int64  `yaml:"-"`
	DrawingPreviewEntities int    `yaml:"drawing_preview_entities"`
}

// Signatures configures the trust store that the signatures of signed
// files are judged against: a folder of PEM (or DER) certificates of
// trusted CAs, and the EU Trusted List (AgID's for Italy) as a local XML
// file, both read again when they change. Neither set: signatures are
// shown, their certificates said to be unverifiable.
type Signatures struct {
	TrustDir    string `yaml:"trust_dir"`
	TrustedList string `yaml:"trusted_list"`
	// CRLDir is a folder of certificate revocation lists, refreshed by
	// the operator (a cron job): the signers' certificates are looked up
	// in their issuers' lists.
	CRLDir string `yaml:"crl_dir"`
	// CheckInterval is how often the files are looked at for changes.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// Mail configures the service's e-mails: to a technician granted a
// dossier, before a grant ends, and the managers' daily summary of refused
// requests. Off while SMTPHost is empty.
type Mail struct {
	SMTPHost string `yaml:"smtp_host"`
	// SMTPPort defaults by TLS: 587 for starttls, 465 for tls, 25 for none.
	SMTPPort int `yaml:"smtp_port"`
	// TLS is starttls (the default), tls (implicit, from the first byte)
	// or none (in clear: a relay on the same host or network).
	TLS string `yaml:"tls"`
	// CAFile holds the PEM certificates that verify the server's, for a
	// relay with a private authority; empty: the system's.
	CAFile string `yaml:"ca_file"`
	// Username and PasswordFile authenticate to the server; the password
	// is never in the configuration, only in its file.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// Password is refused: it belongs in password_file.
	Password string `yaml:"password"`
	// From is the sender, "Archivio pratiche <archivio@example.it>".
	From string `yaml:"from"`
	// PublicURL is where people open the service, for the links of the
	// messages: background jobs have no request to take it from.
	PublicURL string `yaml:"public_url"`
	// ExpiryWarningDays is how many days before a grant's last day its
	// warning goes out; 0: no warnings.
	ExpiryWarningDays int `yaml:"expiry_warning_days"`
	// SummaryHour is the hour of time_zone at which the daily summary of
	// the day before (up to that hour) goes out.
	SummaryHour int `yaml:"summary_hour"`
	// SummaryInterval, when set, replaces the daily summary with one every
	// interval (periods aligned on the Unix epoch): for trials and tests.
	SummaryInterval time.Duration `yaml:"summary_interval"`
	// SummaryDisabled: no summaries.
	SummaryDisabled bool `yaml:"summary_disabled"`
	// CheckInterval is how often the warnings and summaries due are looked
	// for.
	CheckInterval time.Duration `yaml:"check_interval"`
	// Timeout bounds one attempt at sending a message.
	Timeout time.Duration `yaml:"timeout"`

	// FromAddress is From as parsed.
	FromAddress *mail.Address `yaml:"-"`
}

// Enabled reports whether the service sends e-mails.
func (m Mail) Enabled() bool { return m.SMTPHost != "" }

// ReadPassword returns the SMTP password from PasswordFile (its first
// line), "" when there is none.
func (m Mail) ReadPassword() (string, error) {
	if m.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("mail.password_file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("mail.password_file %s: empty", m.PasswordFile)
	}
	return line, nil
}

// CatalogueType is a kind of dossier.
type CatalogueType struct {
	Name     string   `yaml:"name"`
	Prefixes []string `yaml:"prefixes"`
}

// Object Lock modes of a closed dossier.
const (
	LegalHold  = "legal_hold"
	Compliance = "compliance"
)

// ScrubBytesPerSecond is ScrubRate in bytes per second.
func (i Integrity) ScrubBytesPerSecond() int64 { return int64(i.ScrubRate * 1e6) }

// OIDC configures sign-in through an OpenID Provider (a SPID broker).
// Sign-in is off while Issuer is empty.
type OIDC struct {
	Issuer         string   `yaml:"issuer"`
	ClientID       string   `yaml:"client_id"`
	ClientSecret   string   `yaml:"client_secret"`    // or FALDONE_OIDC_CLIENT_SECRET
	PrivateKeyFile string   `yaml:"private_key_file"` // PEM key for private_key_jwt instead of a secret
	KeyID          string   `yaml:"key_id"`
	RedirectURL    string   `yaml:"redirect_url"` // https://host/_/accedi/ritorno
	Scopes         []string `yaml:"scopes"`
	ACRValues      []string `yaml:"acr_values"`
	MinACR         string   `yaml:"min_acr"`
	BearerAudience string   `yaml:"bearer_audience"`
	Claims         Claims   `yaml:"claims"`
	// HintParam names the parameter that tells the broker which identity
	// provider a person chose (kc_idp_hint, idp_hint); with it, Providers
	// lists SPID's providers under the "Entra con SPID" button and CIEHint
	// shows "Entra con CIE". Without it, the one button goes to the broker.
	HintParam string             `yaml:"hint_param"`
	Providers []IdentityProvider `yaml:"identity_providers"`
	CIEHint   string             `yaml:"cie_hint"`
}

// IdentityProvider is a SPID identity provider as the sign-in page lists
// it: its name, and the hint the broker knows it by.
type IdentityProvider struct {
	Name string `yaml:"name"`
	Hint string `yaml:"hint"`
}

// Claims names the claims that carry a person's attributes.
type Claims struct {
	FiscalNumber []string `yaml:"fiscal_number"`
	GivenName    string   `yaml:"given_name"`
	FamilyName   string   `yaml:"family_name"`
	Email        string   `yaml:"email"`
	Groups       string   `yaml:"groups"`
	ACR          string   `yaml:"acr"`
}

// Sessions limits browser sessions.
type Sessions struct {
	Idle     time.Duration `yaml:"idle"`
	Absolute time.Duration `yaml:"absolute"`
}

// AppPasswords sets the defaults of app passwords.
type AppPasswords struct {
	DefaultExpiry time.Duration `yaml:"default_expiry"`
}

// Log selects the log format and level.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// WebDAV tunes the protocol.
type WebDAV struct {
	AllowInfiniteDepth bool          `yaml:"allow_infinite_depth"`
	MaxXMLBody         int64         `yaml:"max_xml_body"`
	DefaultLockTimeout time.Duration `yaml:"default_lock_timeout"`
	MaxLockTimeout     time.Duration `yaml:"max_lock_timeout"`
	// UsageInterval is how often the space used by each Comune with a
	// quota is counted anew (a full listing of its storage).
	UsageInterval time.Duration `yaml:"usage_interval"`
	// StaleUploadAge: multipart uploads older than this were left by a
	// crash and are aborted by the hourly housekeeping.
	StaleUploadAge time.Duration `yaml:"stale_upload_age"`
	// BodyIdleTimeout is the longest wait for the next bytes of a request
	// body; BodyMinRate (bytes per second, 0: none) the slowest average a
	// body may arrive at once that first wait is over.
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`
	BodyMinRate     int64         `yaml:"body_min_rate"`
}

// S3 bounds the waits on S3 storage that does not answer: every request
// without content must be answered within RequestTimeout, and a transfer
// must move bytes at least once per StallTimeout. UploadChecksums sends the
// SHA-256 of every upload's bytes for S3 to verify; off, for a server that
// refuses checksums, none is sent.
type S3 struct {
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	StallTimeout    time.Duration `yaml:"stall_timeout"`
	UploadChecksums bool          `yaml:"upload_checksums"`
}

// Comune is one mount of the namespace.
type Comune struct {
	ID      string `yaml:"id"`      // the first path segment: lower case letters, digits, '-'
	Name    string `yaml:"name"`    // as people read it
	Storage string `yaml:"storage"` // storage URL; default file:<data_dir>/archivio/<id>
	// Quota is the space the Comune may use ("500GiB", "2TB"); empty: none.
	// It is reported to clients (RFC 4331) and enforced on uploads.
	Quota      string `yaml:"quota"`
	QuotaBytes int64  `yaml:"-"`
	// S3 credentials for this Comune's bucket; when empty, the standard AWS
	// chain (AWS_ACCESS_KEY_ID…, shared files) applies.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// User is a local account (service users; people sign in with SPID).
type User struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"` // argon2id, PHC format: see `faldone hash-password`
}

// Unione lists the eight Comuni of the Unione dei Comuni della Bassa Reggiana,
// the default mounts.
var unione = [][2]string{
	{"boretto", "Boretto"}, {"brescello", "Brescello"}, {"gualtieri", "Gualtieri"},
	{"guastalla", "Guastalla"}, {"luzzara", "Luzzara"}, {"novellara", "Novellara"},
	{"poviglio", "Poviglio"}, {"reggiolo", "Reggiolo"},
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		Listen:     "127.0.0.1:8080",
		DataDir:    "faldone-data",
		Signatures: Signatures{CheckInterval: time.Minute},
		Pages: Pages{Owner: "Unione dei Comuni della Bassa Reggiana", Service: "Archivio pratiche edilizie",
			HelpText: "Ufficio archivio dell'Unione, dal lunedì al venerdì, 9–13"},
		Log: Log{Level: "info", Format: "text"},
		WebDAV: WebDAV{
			MaxXMLBody:         1 << 20,
			DefaultLockTimeout: time.Hour,
			MaxLockTimeout:     24 * time.Hour,
			UsageInterval:      time.Hour,
			StaleUploadAge:     24 * time.Hour,
			BodyIdleTimeout:    time.Minute,
			BodyMinRate:        500,
		},

		MaxConnsPerAddress: 128,

		S3:            S3{RequestTimeout: 30 * time.Second, StallTimeout: 30 * time.Second, UploadChecksums: true},
		MetricsAllow:  []string{"127.0.0.0/8", "::1/128"},
		ShutdownGrace: 30 * time.Second,
		StateTimeout:  10 * time.Second,
		Sessions:      Sessions{Idle: 30 * time.Minute, Absolute: 8 * time.Hour},
		Audit:         Audit{Retention: 10 * 365 * 24 * time.Hour, SpoolMaxBytes: 1 << 30, ShipTimeout: 5 * time.Second},
		Integrity:     Integrity{ScrubRate: 20},
		Trash:         Trash{Retention: 90 * 24 * time.Hour, MaxVersions: 20, VersionAge: 90 * 24 * time.Hour},
		Dossiers:      Dossiers{ObjectLock: LegalHold},
		Catalogue:     Catalogue{Depth: 3},
		Previews:      Previews{CacheSize: "1GiB", MaxFileSize: "1GiB", ThumbnailMaxCopy: "64MiB", Concurrency: 2, Timeout: time.Minute, Memory: "1GiB"},
		AppPasswords:  AppPasswords{DefaultExpiry: 90 * 24 * time.Hour},
		TLS:           TLS{MinVersion: "1.2"},
		TimeZone:      "Europe/Rome",
		Mail: Mail{TLS: "starttls", ExpiryWarningDays: 3, SummaryHour: 7, CheckInterval: 10 * time.Minute,
			Timeout: 30 * time.Second},
	}
}

// Load reads the file at path (none when path is "") over the defaults, then
// the environment.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read configuration: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("configuration %s: %w", path, err)
		}
	}
	if err := cfg.applyEnv(os.LookupEnv); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyEnv overrides keys from FALDONE_* variables.
func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	str := map[string]*string{
		"FALDONE_LISTEN":             &c.Listen,
		"FALDONE_DATA_DIR":           &c.DataDir,
		"FALDONE_LOG_LEVEL":          &c.Log.Level,
		"FALDONE_LOG_FORMAT":         &c.Log.Format,
		"FALDONE_OIDC_CLIENT_SECRET": &c.OIDC.ClientSecret,
		"FALDONE_SECRET_FILE":        &c.SecretFile,
		"FALDONE_STATE_URL":          &c.StateURL,
		"FALDONE_TLS_CERT_FILE":      &c.TLS.CertFile,
		"FALDONE_TLS_KEY_FILE":       &c.TLS.KeyFile,
		"FALDONE_TLS_MIN_VERSION":    &c.TLS.MinVersion,
		"FALDONE_TIME_ZONE":          &c.TimeZone,
	}
	for k, p := range str {
		if v, ok := lookup(k); ok {
			*p = v
		}
	}
	if v, ok := lookup("FALDONE_PUBLIC_HOSTS"); ok {
		c.PublicHosts = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	if v, ok := lookup("FALDONE_TRUSTED_PROXIES"); ok {
		c.TrustedProxies = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	if v, ok := lookup("FALDONE_WEBDAV_ALLOW_INFINITE_DEPTH"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("FALDONE_WEBDAV_ALLOW_INFINITE_DEPTH: %w", err)
		}
		c.WebDAV.AllowInfiniteDepth = b
	}
	if v, ok := lookup("FALDONE_INTEGRITY_SCRUB_INTERVAL"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("FALDONE_INTEGRITY_SCRUB_INTERVAL: %w", err)
		}
		c.Integrity.ScrubInterval = d
	}
	if v, ok := lookup("FALDONE_TRASH_RETENTION"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("FALDONE_TRASH_RETENTION: %w", err)
		}
		c.Trash.Retention = d
	}
	if v, ok := lookup("FALDONE_INTEGRITY_SCRUB_RATE"); ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("FALDONE_INTEGRITY_SCRUB_RATE: %w", err)
		}
		c.Integrity.ScrubRate = r
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Finish fills the derived defaults and validates the whole configuration.
func (c *Config) Finish() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if c.DataDir == "" {
		return errors.New("data_dir is empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	c.DataDir = abs
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	if c.WebDAV.MaxXMLBody <= 0 || c.WebDAV.DefaultLockTimeout <= 0 || c.WebDAV.MaxLockTimeout < c.WebDAV.DefaultLockTimeout || c.WebDAV.UsageInterval <= 0 {
		return errors.New("webdav: max_xml_body, usage_interval and the lock timeouts must be positive, the maximum at least the default")
	}
	if len(c.Comuni) == 0 {
		for _, u := range unione {
			c.Comuni = append(c.Comuni, Comune{ID: u[0], Name: u[1]})
		}
	}
	seen := map[string]bool{}
	for i := range c.Comuni {
		m := &c.Comuni[i]
		if !idPattern.MatchString(m.ID) {
			return fmt.Errorf("comune id %q: use lower-case letters, digits and '-'", m.ID)
		}
		if m.ID == "healthz" || m.ID == "readyz" || m.ID == "metrics" {
			return fmt.Errorf("comune id %q is reserved for the operations endpoints", m.ID)
		}
		if seen[m.ID] {
			return fmt.Errorf("comune %q defined twice", m.ID)
		}
		seen[m.ID] = true
		if m.Name == "" {
			m.Name = m.ID
		}
		if m.Storage == "" {
			m.Storage = "file:" + filepath.Join(c.DataDir, "archivio", m.ID)
		}
		if m.Quota != "" {
			n, err := ParseSize(m.Quota)
			if err != nil || n <= 0 {
				return fmt.Errorf("comune %s: quota %q: use a size such as 500GiB or 2TB", m.ID, m.Quota)
			}
			m.QuotaBytes = n
		}
	}
	if c.StateURL != "" && !strings.HasPrefix(c.StateURL, "postgres://") && !strings.HasPrefix(c.StateURL, "postgresql://") {
		return errors.New("state_url: a postgres:// URL, or empty for the embedded SQLite")
	}
	if c.SecretFile == "" {
		c.SecretFile = filepath.Join(c.DataDir, "faldone.key")
	}
	if c.Sessions.Idle <= 0 || c.Sessions.Absolute < c.Sessions.Idle {
		return errors.New("sessions: idle must be positive and absolute at least idle")
	}
	if c.AppPasswords.DefaultExpiry <= 0 {
		return errors.New("app_passwords.default_expiry must be positive")
	}
	if o := c.OIDC; o.Issuer != "" {
		if o.ClientID == "" || o.RedirectURL == "" {
			return errors.New("oidc: issuer, client_id and redirect_url go together")
		}
		if (o.ClientSecret == "") == (o.PrivateKeyFile == "") {
			return errors.New("oidc: set exactly one of client_secret and private_key_file")
		}
		if (len(o.Providers) > 0 || o.CIEHint != "") && o.HintParam == "" {
			return errors.New("oidc: identity_providers and cie_hint need hint_param, the broker's parameter for them")
		}
		seen := map[string]bool{}
		for _, p := range o.Providers {
			if p.Name == "" || !validHint(p.Hint) || seen[p.Hint] {
				return fmt.Errorf("oidc.identity_providers: %q: each needs a name and a hint of its own (letters, digits, '.', '_', '-', ':', '/'; at most 200)", p.Hint)
			}
			seen[p.Hint] = true
		}
		if o.CIEHint != "" && !validHint(o.CIEHint) {
			return errors.New("oidc.cie_hint: letters, digits, '.', '_', '-', ':', '/'; at most 200")
		}
	}
	if err := c.Pages.validate(); err != nil {
		return err
	}
	if err := c.Previews.validate(); err != nil {
		return err
	}
	if c.Signatures.CheckInterval < 0 {
		return errors.New("signatures.check_interval: not negative")
	}
	if err := c.Mail.finish(); err != nil {
		return err
	}
	if c.StateTimeout <= 0 {
		return errors.New("state_timeout must be positive")
	}
	if c.ShutdownGrace <= 0 || c.WebDAV.StaleUploadAge <= 0 {
		return errors.New("shutdown_grace and webdav.stale_upload_age must be positive")
	}
	if c.WebDAV.BodyIdleTimeout <= 0 {
		return errors.New("webdav.body_idle_timeout must be positive")
	}
	if c.WebDAV.BodyMinRate < 0 || c.MaxConnsPerAddress < 0 {
		return errors.New("webdav.body_min_rate and max_conns_per_address must not be negative")

	}
	if c.S3.RequestTimeout <= 0 || c.S3.StallTimeout <= 0 {
		return errors.New("s3.request_timeout and s3.stall_timeout must be positive")
	}
	c.MetricsAllowNets = nil
	for _, a := range c.MetricsAllow {
		if !strings.Contains(a, "/") {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
				a += "/32"
			} else {
				a += "/128"
			}
		}
		_, n, err := net.ParseCIDR(a)
		if err != nil {
			return fmt.Errorf("metrics_allow %q: %w", a, err)
		}
		c.MetricsAllowNets = append(c.MetricsAllowNets, n)
	}
	if c.Audit.File == nil {
		f := filepath.Join(c.DataDir, "audit.jsonl")
		c.Audit.File = &f
	}
	if c.Audit.Retention <= 0 {
		return errors.New("audit.retention must be positive")
	}
	if c.Audit.SpoolMaxBytes < 1<<20 {
		return errors.New("audit.spool_max_bytes must be at least 1048576")
	}
	if c.Audit.ShipTimeout <= 0 {
		return errors.New("audit.ship_timeout must be positive")
	}
	if c.Trash.Retention <= 0 || c.Trash.VersionAge <= 0 {
		return errors.New("trash.retention and trash.version_age must be positive (trash.disabled: true keeps nothing)")
	}
	if c.Trash.MaxVersions < 1 || c.Trash.MaxVersions > 1000 {
		return errors.New("trash.max_versions must be between 1 and 1000")
	}
	if c.Catalogue.Depth < 2 || c.Catalogue.Depth > 8 {
		return errors.New("catalogue.depth must be between 2 (/<comune>/<numero>) and 8")
	}
	for _, t := range c.Catalogue.Types {
		if strings.TrimSpace(t.Name) == "" {
			return errors.New("catalogue.types: every type needs its name")
		}
	}
	switch c.Dossiers.ObjectLock {
	case LegalHold:
	case Compliance:
		if c.Dossiers.Retention <= 0 {
			return errors.New("dossiers.retention must be positive with dossiers.object_lock: compliance")
		}
	default:
		return fmt.Errorf("dossiers.object_lock %q: want %s or %s", c.Dossiers.ObjectLock, LegalHold, Compliance)
	}
	if c.Integrity.ScrubInterval < 0 {
		return errors.New("integrity.scrub_interval must not be negative (0: no scrub)")
	}
	// A rate below one byte a second would read nothing: a scrub without a
	// bound is `faldone verify`'s, run by an operator who watches it. NaN
	// fails both comparisons; infinity, or any rate past an int64, the
	// second.
	if b := c.Integrity.ScrubRate * 1e6; !(b >= 1 && b < 1<<62) {
		return errors.New("integrity.scrub_rate must be positive, in MB per second")
	}
	known := map[string]bool{"*": true}
	for _, m := range c.Comuni {
		known[m.ID] = true
	}
	for _, a := range c.Access.Assignments {
		if a.Person == "" || !known[a.Comune] || !validRole(a.Role) {
			return fmt.Errorf("access.assignments: %+v needs a person, a known comune (or *) and a role (reader, editor, manager)", a)
		}
	}
	for _, g := range c.Access.GroupRules {
		if g.Group == "" || (!g.Admin && (!known[g.Comune] || !validRole(g.Role))) {
			return fmt.Errorf("access.group_rules: %+v needs a group and either admin: true or a known comune (or *) and a role", g)
		}
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return fmt.Errorf("time_zone %q: want an IANA zone such as Europe/Rome", c.TimeZone)
	}
	c.Location = loc
	users := map[string]bool{}
	for _, u := range c.Users {
		if u.Name == "" || u.PasswordHash == "" || users[u.Name] {
			return fmt.Errorf("users: each needs a unique name and a password_hash (%q)", u.Name)
		}
		users[u.Name] = true
	}
	return c.finishTLS()
}

// finishTLS validates tls and trusted_proxies.
func (c *Config) finishTLS() error {
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file go together")
	}
	if c.TLS.MinTLSVersion() == 0 {
		return fmt.Errorf("tls.min_version %q: want 1.2 or 1.3", c.TLS.MinVersion)
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("trusted_proxies: %q is neither an IP address nor a CIDR prefix", p)
		}
	}
	return nil
}

// validRole is access.ParseRole's rule: the roles the configuration may
// name are those the rules know.
func validRole(r string) bool {
	_, ok := access.ParseRole(r)
	return ok
}

// ParseSize reads a size such as "1048576", "500MB", "500MiB" or "2TB".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q", s)
	}
	return int64(n * float64(mult)), nil
}

// validHint reports whether h may travel as a broker's hint: what brokers
// name providers with (aliases, entity ids), nothing a URL would need to
// escape beyond them.
func validHint(h string) bool {
	if h == "" || len(h) > 200 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:/", c)) {
			return false
		}
	}
	return true
}

// finish fills the mail defaults that depend on other keys and validates
// the section.
func (m *Mail) finish() error {
	if m.Password != "" {
		return errors.New("mail.password: a password does not belong in the configuration; write it in a file (mode 0600) and name it in mail.password_file")
	}
	if !m.Enabled() {
		if m.From != "" || m.Username != "" || m.PasswordFile != "" || m.PublicURL != "" || m.CAFile != "" {
			return errors.New("mail: smtp_host is empty, so no e-mail is sent: set it, or remove the other mail keys")
		}
		return nil
	}
	if strings.ContainsAny(m.SMTPHost, " /:@") && net.ParseIP(m.SMTPHost) == nil {
		return fmt.Errorf("mail.smtp_host %q: a host name or an IP address, without a port (that is smtp_port)", m.SMTPHost)
	}
	defaultPort := map[string]int{"starttls": 587, "tls": 465, "none": 25}
	port, ok := defaultPort[m.TLS]
	if !ok {
		return fmt.Errorf("mail.tls %q: want starttls, tls or none", m.TLS)
	}
	if m.SMTPPort == 0 {
		m.SMTPPort = port
	}
	if m.SMTPPort < 1 || m.SMTPPort > 65535 {
		return fmt.Errorf("mail.smtp_port %d: want 1 to 65535", m.SMTPPort)
	}
	if (m.Username == "") != (m.PasswordFile == "") {
		return errors.New("mail: username and password_file go together")
	}
	if m.Username != "" && m.TLS == "none" && !loopbackHost(m.SMTPHost) {
		return errors.New("mail: with tls: none the password would cross the network in clear; use starttls or tls, or a relay on this host without username")
	}
	from, err := mail.ParseAddress(m.From)
	if m.From == "" || err != nil || len(from.Address) > 254 {
		return fmt.Errorf("mail.from %q: want the sender's address, e.g. \"Archivio pratiche <archivio@example.it>\"", m.From)
	}
	m.FromAddress = from
	u, err := url.Parse(m.PublicURL)
	if m.PublicURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("mail.public_url %q: want the address people open the service at, e.g. https://archivio.example.it/", m.PublicURL)
	}
	if m.ExpiryWarningDays < 0 || m.ExpiryWarningDays > 60 {
		return errors.New("mail.expiry_warning_days must be between 0 (no warnings) and 60")
	}
	if m.SummaryHour < 0 || m.SummaryHour > 23 {
		return errors.New("mail.summary_hour must be between 0 and 23")
	}
	if m.SummaryInterval != 0 && m.SummaryInterval < time.Second {
		return errors.New("mail.summary_interval must be at least 1s (0: daily, at summary_hour)")
	}
	if m.CheckInterval < time.Second {
		return errors.New("mail.check_interval must be at least 1s")
	}
	if m.Timeout <= 0 {
		return errors.New("mail.timeout must be positive")
	}
	return nil
}

// loopbackHost reports whether host names this machine as net/smtp's
// AUTH PLAIN knows it, the one server it sends a password to in clear.
func loopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (p *Pages) validate() error {
	if p.ZipConfirmAbove == "" {
		p.ZipConfirmAbove = "2GiB"
	}
	n, err := ParseSize(p.ZipConfirmAbove)
	if err != nil || n <= 0 {
		return fmt.Errorf("pages.zip_confirm_above %q: want a size, such as 2GiB", p.ZipConfirmAbove)
	}
	p.ZipConfirmAboveBytes = n
	if p.DrawingPreviewMax == "" {
		p.DrawingPreviewMax = "64MiB"
	}
	if n, err = ParseSize(p.DrawingPreviewMax); err != nil || n <= 0 {
		return fmt.Errorf("pages.drawing_preview_max %q: want a size, such as 64MiB", p.DrawingPreviewMax)
	}
	p.DrawingPreviewMaxBytes = n
	if p.DrawingPreviewEntities == 0 {
		p.DrawingPreviewEntities = 200_000
	}
	if p.DrawingPreviewEntities < 0 {
		return fmt.Errorf("pages.drawing_preview_entities %d: want a positive number", p.DrawingPreviewEntities)
	}
	if strings.TrimSpace(p.Owner) == "" || strings.TrimSpace(p.Service) == "" {
		return errors.New("pages: owner and service must not be empty")
	}
	for name, v := range map[string]string{"owner_url": p.OwnerURL, "accessibility_url": p.AccessibilityURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			return fmt.Errorf("pages.%s: want an http(s) URL", name)
		}
	}
	for name, v := range map[string]string{"help_email": p.HelpEmail, "accessibility_email": p.AccessibilityEmail, "privacy_dpo_email": p.PrivacyDPOEmail} {
		if a, err := mail.ParseAddress(v); v != "" && (err != nil || a.Name != "" || a.Address != v) {
			return fmt.Errorf("pages.%s: want an e-mail address (name@example.it)", name)
		}
	}
	return nil
}
