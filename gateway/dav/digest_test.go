package dav

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"testing"
)

func TestWantsSHA256(t *testing.T) {
	for _, tt := range []struct {
		values []string
		want   bool
	}{
		{nil, true},
		{[]string{""}, true},
		{[]string{"sha-256=10"}, true},
		{[]string{"sha-256=1, sha-512=10"}, true},
		{[]string{"sha-512=3", "sha-256=2"}, true},
		{[]string{"sha-256=0"}, false},
		{[]string{"sha-512=5"}, false},
		{[]string{"sha-512=0, sha-256=0"}, false},
		{[]string{"sha-256=11"}, true}, // does not parse: ignored
		{[]string{"sha-256"}, true},
	} {
		h := http.Header{}
		for _, v := range tt.values {
			h.Add("Want-Repr-Digest", v)
		}
		if got := wantsSHA256(h); got != tt.want {
			t.Errorf("Want-Repr-Digest %q: got %v, want %v", tt.values, got, tt.want)
		}
	}
}

// TestHandlerDigests follows a file's SHA-256 from its upload through reads,
// copies, moves, a replacement and listings.
func TestHandlerDigests(t *testing.T) {
	b64 := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	}
	hexOf := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	dest := func(p string) []string { return []string{"Destination", "http://example.com" + p} }
	digestProps := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:F="` + nsFaldone + `" xmlns:oc="` + nsOwnCloud + `">` +
		`<D:prop><F:sha256/><oc:checksums/></D:prop></D:propfind>`
	runHandlerTests(t, []handlerTest{
		{name: "uploaded, read, copied, moved", setup: []string{"d/", "vecchio.txt"}, steps: []step{
			{method: "PUT", target: "/d/n.txt", body: "prima", code: http.StatusCreated},
			{method: "GET", target: "/d/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "HEAD", target: "/d/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "GET", target: "/d/n.txt", header: []string{"Range", "bytes=0-1"}, code: http.StatusPartialContent,
				headers: []string{"Repr-Digest", b64("prima")}},
			{method: "GET", target: "/d/n.txt", header: []string{"Want-Repr-Digest", "sha-256=0"}, code: http.StatusOK,
				headers: []string{"Repr-Digest", ""}},
			{method: "GET", target: "/d/n.txt", header: []string{"Want-Repr-Digest", "sha-512=9"}, code: http.StatusOK,
				headers: []string{"Repr-Digest", ""}},
			{method: "GET", target: "/d/n.txt", header: []string{"Want-Repr-Digest", "sha-512=9, sha-256=1"}, code: http.StatusOK,
				headers: []string{"Repr-Digest", b64("prima")}},
			// A file that came without Faldone has none until verified.
			{method: "GET", target: "/vecchio.txt", code: http.StatusOK, headers: []string{"Repr-Digest", ""}},
			{method: "COPY", target: "/d/n.txt", header: dest("/d/copia.txt"), code: http.StatusCreated},
			{method: "GET", target: "/d/copia.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "MOVE", target: "/d/copia.txt", header: dest("/spostata.txt"), code: http.StatusCreated},
			{method: "GET", target: "/spostata.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "COPY", target: "/d/", header: dest("/k/"), code: http.StatusCreated},
			{method: "GET", target: "/k/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "MOVE", target: "/k/", header: dest("/m/"), code: http.StatusCreated},
			{method: "GET", target: "/m/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "PUT", target: "/d/n.txt", body: "seconda", code: http.StatusNoContent},
			{method: "GET", target: "/d/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("seconda")}},
			{method: "GET", target: "/m/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("prima")}},
			{method: "DELETE", target: "/d/n.txt", code: http.StatusNoContent},
			{method: "PUT", target: "/d/n.txt", body: "terza", code: http.StatusCreated},
			{method: "GET", target: "/d/n.txt", code: http.StatusOK, headers: []string{"Repr-Digest", b64("terza")}},
		}},
		{name: "in PROPFIND when asked by name", setup: []string{"d/", "d/vecchio.txt"}, steps: []step{
			{method: "PUT", target: "/d/n.txt", body: "prima", code: http.StatusCreated},
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "1"}, body: digestProps, code: 207,
				want: ":sha256>" + hexOf("prima") + "</"},
			{method: "PROPFIND", target: "/d/n.txt", header: []string{"Depth", "0"}, body: digestProps, code: 207,
				want: "SHA256:" + hexOf("prima")},
			{method: "PROPFIND", target: "/d/vecchio.txt", header: []string{"Depth", "0"}, body: digestProps, code: 207,
				want: "404 Not Found"},
		}},
		{name: "protected", setup: []string{"a.txt"}, steps: []step{
			{method: "PROPPATCH", target: "/a.txt", code: 207, want: "cannot-modify-protected-property",
				body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:F="` + nsFaldone + `">` +
					`<D:set><D:prop><F:sha256>00</F:sha256></D:prop></D:set></D:propertyupdate>`},
		}},
	})
}

// TestDigestOfAFileChangedBehind checks that a file rewritten in the
// storage by another tool loses its digest instead of showing the old one.
func TestDigestOfAFileChangedBehind(t *testing.T) {
	d := newDAVTest(t, Options{}, nil)
	if w := d.do("PUT", "/a.txt", "prima", userHeader, "anna"); w.Code != http.StatusCreated {
		t.Fatalf("PUT: %d", w.Code)
	}
	if w := d.do("GET", "/a.txt", "", userHeader, "anna"); w.Header().Get("Repr-Digest") == "" {
		t.Fatal("no Repr-Digest after the upload")
	}
	d.write("a.txt", "cambiata") // another size
	if w := d.do("GET", "/a.txt", "", userHeader, "anna"); w.Header().Get("Repr-Digest") != "" {
		t.Errorf("Repr-Digest %q for a file changed behind the gateway", w.Header().Get("Repr-Digest"))
	}
	d.write("a.txt", "prima") // the same size, a new version
	if w := d.do("GET", "/a.txt", "", userHeader, "anna"); w.Header().Get("Repr-Digest") != "" {
		t.Errorf("Repr-Digest %q for a file rewritten behind the gateway", w.Header().Get("Repr-Digest"))
	}
}
