// Package trust keeps the roots signatures are judged against — a folder
// of PEM (or DER) certificates and the EU Trusted List that AgID publishes
// for Italy — and the certificate revocation lists at hand, all read from
// local files and read again when they change, never fetched while a
// request waits.
package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/signature/cms"
)

// Bounds on what is read: a trusted list is a few megabytes.
const (
	maxFile  = 64 << 20
	maxFiles = 10000
)

// ETSI TS 119 612 values for the services whose certificates are roots
// of qualified signatures: a CA issuing qualified certificates, in a state
// that lets it issue them (granted, or the older lists' words for it).
const (
	serviceCAQC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
)

var activeStatus = map[string]bool{
	"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted":                             true,
	"http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel":           true,
	"http://uri.etsi.org/TrstSvc/eSigDir-1999-93-EC-TrustedList/Svcstatus/accredited":       true,
	"http://uri.etsi.org/TrstSvc/eSigDir-1999-93-EC-TrustedList/Svcstatus/undersupervision": true,
}

// Sources are the files the store reads; empty ones are not used.
type Sources struct {
	Dir  string // certificates of trusted CAs
	List string // an EU Trusted List XML file
	CRLs string // a folder of certificate revocation lists (DER or PEM)
}

// Store is the trust store. The zero of its files (no folder, no list)
// is a store that trusts nothing and says so.
type Store struct {
	dir, list string
	crls      string
	every     time.Duration
	log       *slog.Logger

	mu      sync.Mutex
	checked time.Time
	stamp   string
	opts    cms.Options
	count   int
}

// New reads the certificates of the folder, the list and the revocation
// lists of src. It fails when a configured one
// cannot be read, so that a typo stops the server rather than silently
// trusting nothing. Afterwards the files are looked at again at most
// every interval, and read again when they changed.
func New(src Sources, every time.Duration, log *slog.Logger) (*Store, error) {
	s := &Store{dir: src.Dir, list: src.List, crls: src.CRLs, every: every, log: log}
	if !s.Configured() && s.crls == "" {
		return s, nil
	}
	stamp, err := s.stampNow()
	if err != nil {
		return nil, err
	}
	if err := s.load(stamp); err != nil {
		return nil, err
	}
	s.checked = time.Now()
	return s, nil
}

// Configured reports whether any root source is configured.
func (s *Store) Configured() bool { return s != nil && (s.dir != "" || s.list != "") }

// Count is how many certificates are trusted.
func (s *Store) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Options are the roots now, read again first when the files changed.
// A reload that fails keeps the roots before it, and says so in the log.
func (s *Store) Options() cms.Options {
	if s == nil || (!s.Configured() && s.crls == "") {
		return cms.Options{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.checked) >= s.every {
		s.checked = time.Now()
		if stamp, err := s.stampNow(); err != nil {
			s.log.Error("trust store: files not readable, the roots before are kept", "err", err)
		} else if stamp != s.stamp {
			if err := s.load(stamp); err != nil {
				s.log.Error("trust store: not read again, the roots before are kept", "err", err)
			}
		}
	}
	return s.opts
}

// stampNow sums up the files' names, sizes and times.
func (s *Store) stampNow() (string, error) {
	var b strings.Builder
	if err := stampDir(&b, "cert", s.dir, "trust store folder"); err != nil {
		return "", err
	}
	if s.list != "" {
		info, err := os.Stat(s.list)
		if err != nil {
			return "", fmt.Errorf("trusted list: %w", err)
		}
		fmt.Fprintf(&b, "list %d %d\n", info.Size(), info.ModTime().UnixNano())
	}
	if err := stampDir(&b, "crl", s.crls, "revocation lists folder"); err != nil {
		return "", err
	}
	return b.String(), nil
}

// stampDir writes a line for each file of dir ("" for none).
func stampDir(b *strings.Builder, kind, dir, what string) error {
	if dir == "" {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			fmt.Fprintf(b, "%s %s %d %d\n", kind, e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	return nil
}

// load reads every source; called with s.mu held, or before s is shared.
func (s *Store) load(stamp string) error {
	var certs []*x509.Certificate
	if s.dir != "" {
		c, err := readDir(s.dir)
		if err != nil {
			return err
		}
		certs = append(certs, c...)
	}
	fromList := 0
	if s.list != "" {
		c, err := readListFile(s.list)
		if err != nil {
			return err
		}
		fromList = len(c)
		certs = append(certs, c...)
	}
	var crls []*x509.RevocationList
	if s.crls != "" {
		l, err := readCRLs(s.crls)
		if err != nil {
			return err
		}
		crls = l
	}
	var roots *x509.CertPool
	if s.Configured() {
		roots = x509.NewCertPool()
	}
	var inter []*x509.Certificate
	for _, c := range certs {
		// A trusted list names the CAs that issue certificates, often
		// intermediates under a root it does not list: each is a root
		// here, as the list is what vouches for it.
		roots.AddCert(c)
		inter = append(inter, c)
	}
	s.opts = cms.Options{Roots: roots, Intermediates: inter, CRLs: crls, Version: fmt.Sprintf("%x", sha256.Sum256([]byte(stamp)))[:16]}
	s.stamp, s.count = stamp, len(certs)
	s.log.Info("trust store read", "certificates", len(certs), "from_list", fromList, "folder", s.dir != "", "revocation_lists", len(crls))
	return nil
}

// readCRLs reads the revocation lists of a folder, DER or PEM.
func readCRLs(dir string) ([]*x509.RevocationList, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("revocation lists folder: %w", err)
	}
	if len(ents) > maxFiles {
		return nil, fmt.Errorf("revocation lists folder: more than %d files", maxFiles)
	}
	var out []*x509.RevocationList
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := readBounded(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if blk, _ := pem.Decode(b); blk != nil && blk.Type == "X509 CRL" {
			b = blk.Bytes
		}
		l, err := x509.ParseRevocationList(b)
		if err != nil {
			return nil, fmt.Errorf("revocation list %s: %w", e.Name(), err)
		}
		out = append(out, l)
	}
	return out, nil
}

// readDir reads every certificate of the folder's files (PEM, with any
// number of certificates, or one DER certificate a file).
func readDir(dir string) ([]*x509.Certificate, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("trust store folder: %w", err)
	}
	if len(ents) > maxFiles {
		return nil, fmt.Errorf("trust store folder: more than %d files", maxFiles)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []*x509.Certificate
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := readBounded(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		certs, err := parseCerts(b)
		if err != nil {
			return nil, fmt.Errorf("trust store file %s: %w", e.Name(), err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

func readBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", filepath.Base(name), maxFile)
	}
	return b, nil
}

// parseCerts reads PEM certificates, or one DER certificate.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	if !strings.Contains(string(b[:min(len(b), 4096)]), "-----BEGIN") {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}

// The parts of a trusted list (ETSI TS 119 612) read here, by local name.
type trustedList struct {
	Providers []struct {
		Services []struct {
			Info struct {
				Type     string `xml:"ServiceTypeIdentifier"`
				Status   string `xml:"ServiceStatus"`
				Identity struct {
					IDs []struct {
						Cert string `xml:"X509Certificate"`
					} `xml:"DigitalId"`
				} `xml:"ServiceDigitalIdentity"`
			} `xml:"ServiceInformation"`
		} `xml:"TSPServices>TSPService"`
	} `xml:"TrustServiceProviderList>TrustServiceProvider"`
}

func readListFile(name string) ([]*x509.Certificate, error) {
	b, err := readBounded(name)
	if err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	return ParseList(b)
}

// ParseList reads the certificates of the qualified CAs that a trusted
// list says may issue certificates now.
func ParseList(b []byte) ([]*x509.Certificate, error) {
	var tl trustedList
	if err := xml.Unmarshal(b, &tl); err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	var out []*x509.Certificate
	for _, p := range tl.Providers {
		for _, svc := range p.Services {
			if strings.TrimSpace(svc.Info.Type) != serviceCAQC || !activeStatus[strings.TrimSpace(svc.Info.Status)] {
				continue
			}
			for _, id := range svc.Info.Identity.IDs {
				txt := strings.Join(strings.Fields(id.Cert), "")
				if txt == "" {
					continue
				}
				der, err := base64.StdEncoding.DecodeString(txt)
				if err != nil {
					continue
				}
				if c, err := x509.ParseCertificate(der); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("trusted list: no qualified CA in a granted state")
	}
	return out, nil
}
