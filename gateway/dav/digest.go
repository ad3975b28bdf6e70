package dav

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/backends"
)

// A file's SHA-256 reaches WebDAV clients two ways: the Repr-Digest header
// of GET and HEAD (RFC 9530; of the whole file, also for a range), and two
// live properties that PROPFIND returns when asked for them by name (never
// in allprop, whose size Windows' listings cannot afford): Faldone's own,
// the hexadecimal digest, and ownCloud's oc:checksums, which desktop sync
// clients read.

// nsFaldone is the namespace of Faldone's own live properties.
const nsFaldone = "https://faldone.bassareggiana.it/ns"

// nsOwnCloud is ownCloud's and Nextcloud's namespace.
const nsOwnCloud = "http://owncloud.org/ns"

var (
	propSHA256    = xml.Name{Space: nsFaldone, Local: "sha256"}
	propChecksums = xml.Name{Space: nsOwnCloud, Local: "checksums"}
)

// isDigestProp reports whether n is one of the live properties of a digest.
func isDigestProp(n xml.Name) bool { return n == propSHA256 || n == propChecksums }

// digestProp is the property n of the file whose SHA-256 is sum.
func digestProp(n xml.Name, sum [32]byte) []byte {
	if n == propChecksums {
		return []byte("<checksum xmlns=\"" + nsOwnCloud + "\">SHA256:" + hex.EncodeToString(sum[:]) + "</checksum>")
	}
	return []byte(hex.EncodeToString(sum[:]))
}

// reprDigest is the Repr-Digest field value of sum.
func reprDigest(sum [32]byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// wantsSHA256 reads Want-Repr-Digest (RFC 9530 section 4): a dictionary of
// algorithms and preferences from 0 (not acceptable) to 10. With no field,
// or one that does not parse, the digest is sent unasked, as the RFC
// allows; with one, only when sha-256 is in it with a preference above 0.
func wantsSHA256(h http.Header) bool {
	v := strings.Join(h.Values("Want-Repr-Digest"), ",")
	if strings.TrimSpace(v) == "" {
		return true
	}
	want, parsed := false, true
	for _, member := range strings.Split(v, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(member), "=")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if !ok || err != nil || n < 0 || n > 10 {
			parsed = false
			break
		}
		if strings.TrimSpace(key) == "sha-256" {
			want = n > 0
		}
	}
	return want || !parsed
}

// digestHeader sets Repr-Digest for the file e when its digest is known and
// wanted. A digest that cannot be read costs the header, not the read.
func (rq *request) digestHeader(e backends.Entry) {
	if e.IsDir || !wantsSHA256(rq.r.Header) {
		return
	}
	sum, ok, err := rq.op.Digest(e)
	if err != nil {
		rq.log.Warn("digest not read; Repr-Digest left out", "path", rq.path, "err", err)
		return
	}
	if ok {
		rq.w.Header().Set("Repr-Digest", reprDigest(sum))
	}
}
