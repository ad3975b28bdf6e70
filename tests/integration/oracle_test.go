package integration

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// The people of the oracle tests: an editor of Guastalla with no right on
// Luzzara, and an editor of Guastalla who only reads Luzzara.
const (
	forestiera = "forestiera"
	lettrice   = "lettrice"
)

// secretText is a document of Luzzara whose content the forestiera would
// like to confirm: on S3 its ETag is the MD5 of this text.
const secretText = "verbale riservato della commissione edilizia"

// oracleWorld starts faldone with Guastalla and Luzzara both on the real S3
// server, and a document in each.
func oracleWorld(t *testing.T) *harness.Gateway {
	t.Helper()
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	var comuni strings.Builder
	comuni.WriteString("comuni:\n")
	for _, c := range []string{"guastalla", "luzzara"} {
		fmt.Fprintf(&comuni, "  - {id: %s, storage: \"s3://%s/%s?endpoint=%s&region=us-east-1&path_style=true\", access_key_id: %s, secret_access_key: %s}\n",
			c, bucket, c, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	}
	g := harness.StartServe(t, comuni.String()+`access:
  admins: [operatore]
  assignments:
    - {person: forestiera, comune: guastalla, role: editor}
    - {person: lettrice, comune: guastalla, role: editor}
    - {person: lettrice, comune: luzzara, role: reader}
`)
	for _, name := range []string{forestiera, lettrice} {
		if out, err := faldone(t, pw(name)+"\n", "user", "add", name, "--data", g.DataDir); err != nil {
			t.Fatalf("user add %s: %v\n%s", name, err, out)
		}
	}
	for _, d := range []string{"/guastalla/2020", "/luzzara/2020"} {
		mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	}
	mustStatus(t, g, "PUT", "/luzzara/2020/b.txt", nil, secretText, http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/2020/mio.txt", nil, "mio", http.StatusCreated)
	// The premise of the oracle: the ETag is the content's MD5.
	if _, _, h := g.Status("HEAD", "/luzzara/2020/b.txt", nil, ""); h.Get("ETag") != `"`+md5Hex(secretText)+`"` {
		t.Fatalf("ETag %s is not the MD5 of the content: the test would prove nothing", h.Get("ETag"))
	}
	return g
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// answer is what a client learns from a response.
type answer struct {
	code int
	body string
}

// sameAnswers fails unless every request of a group got the same answer,
// and that answer is want.
func sameAnswers(t *testing.T, group string, want int, got map[string]answer) {
	t.Helper()
	var first *answer
	for name, a := range got {
		if a.code != want {
			t.Errorf("%s: %s answered %d, want %d\n%.300s", group, name, a.code, want, a.body)
		}
		if first == nil {
			first = &a
			continue
		}
		if a != *first {
			t.Errorf("%s: answers differ: %s", group, firstDifference(first.body, a.body))
			return
		}
	}
}

// wayBack is an error page's link back to a folder.
var wayBack = regexp.MustCompile(`<p><a href="[^"]*" id="torna">[^<]*</a></p>`)

// firstDifference shows where two bodies part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-120)
	return fmt.Sprintf("at byte %d:\n%q\n%q", i, a[lo:min(len(a), i+120)], b[lo:min(len(b), i+120)])
}

// TestIfHeaderIsNoOracle: the If header of a request on one's own file
// cannot test the ETag or the locks of a resource one may not read; such a
// resource behaves exactly as a missing one.
func TestIfHeaderIsNoOracle(t *testing.T) {
	g := oracleWorld(t)
	her := g.As(forestiera, pw(forestiera))
	right, wrong := md5Hex(secretText), md5Hex("un'altra ipotesi")
	// Another person's lock on the document, whose token she learned.
	code, _, h := g.Status("LOCK", "/luzzara/2020/b.txt", map[string]string{"Timeout": "Second-600", "Depth": "0"},
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`)
	token := strings.Trim(h.Get("Lock-Token"), "<>")
	if code != http.StatusOK || token == "" {
		t.Fatalf("LOCK by the administrator: %d", code)
	}
	const madeUp = "urn:uuid:00000000-0000-4000-8000-000000000000"
	n := 0
	put := func(ifh string) answer {
		n++
		code, body, _ := her.Status("PUT", fmt.Sprintf("/guastalla/2020/nuovo-%d.txt", n), map[string]string{"If": ifh}, "x")
		return answer{code, body}
	}
	tag := func(p string) string { return "<" + g.URL + p + ">" }
	hidden, hiddenMissing, ownMissing := tag("/luzzara/2020/b.txt"), tag("/luzzara/2020/nessuno.txt"), tag("/guastalla/2020/nessuno.txt")

	// The If header does work where she may read: a right ETag passes, a
	// wrong one fails.
	own := md5Hex("mio")
	if a := put(tag("/guastalla/2020/mio.txt") + ` (["` + own + `"])`); a.code != http.StatusCreated {
		t.Fatalf("right ETag of her own file: %d", a.code)
	}
	if a := put(tag("/guastalla/2020/mio.txt") + ` (["` + wrong + `"])`); a.code != http.StatusPreconditionFailed {
		t.Fatalf("wrong ETag of her own file: %d", a.code)
	}

	for _, tc := range []struct {
		group string
		want  int
		ifs   map[string]string
	}{
		{"ETag", http.StatusPreconditionFailed, map[string]string{
			"right guess":      hidden + ` (["` + right + `"])`,
			"wrong guess":      hidden + ` (["` + wrong + `"])`,
			"missing":          hiddenMissing + ` (["` + right + `"])`,
			"missing, her own": ownMissing + ` (["` + right + `"])`,
		}},
		{"Not ETag", http.StatusCreated, map[string]string{
			"right guess":      hidden + ` (Not ["` + right + `"])`,
			"wrong guess":      hidden + ` (Not ["` + wrong + `"])`,
			"missing":          hiddenMissing + ` (Not ["` + right + `"])`,
			"missing, her own": ownMissing + ` (Not ["` + right + `"])`,
		}},
		{"lock token", http.StatusPreconditionFailed, map[string]string{
			"the lock's token": hidden + ` (<` + token + `>)`,
			"a made-up token":  hidden + ` (<` + madeUp + `>)`,
			"missing":          hiddenMissing + ` (<` + token + `>)`,
			"missing, her own": ownMissing + ` (<` + token + `>)`,
		}},
		{"Not lock token", http.StatusCreated, map[string]string{
			"the lock's token": hidden + ` (Not <` + token + `>)`,
			"a made-up token":  hidden + ` (Not <` + madeUp + `>)`,
			"missing":          hiddenMissing + ` (Not <` + token + `>)`,
		}},
		{"ETag and token", http.StatusPreconditionFailed, map[string]string{
			"right guess, the lock's token": hidden + ` (<` + token + `> ["` + right + `"])`,
			"wrong guess, a made-up token":  hidden + ` (<` + madeUp + `> ["` + wrong + `"])`,
			"missing":                       hiddenMissing + ` (<` + token + `> ["` + right + `"])`,
		}},
	} {
		got := map[string]answer{}
		for name, ifh := range tc.ifs {
			got[name] = put(ifh)
		}
		sameAnswers(t, tc.group, tc.want, got)
	}
	// The same holds for a LOCK of her own file, which evaluates If too.
	got := map[string]answer{}
	for name, ifh := range map[string]string{"right guess": hidden + ` (["` + right + `"])`, "wrong guess": hidden + ` (["` + wrong + `"])`,
		"missing": hiddenMissing + ` (["` + right + `"])`} {
		code, body, _ := her.Status("LOCK", "/guastalla/2020/mio.txt", map[string]string{"If": ifh, "Timeout": "Second-60"},
			`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`)
		got[name] = answer{code, body}
	}
	sameAnswers(t, "LOCK", http.StatusPreconditionFailed, got)
	if code, body, _ := g.Status("GET", "/luzzara/2020/b.txt", nil, ""); code != 200 || body != secretText {
		t.Errorf("the document changed: %d %q", code, body)
	}
}

// TestDestinationIsNoOracle: COPY and MOVE to a place one may not write
// answer the same whether something is there or not, and change nothing.
func TestDestinationIsNoOracle(t *testing.T) {
	g := oracleWorld(t)
	for _, tc := range []struct {
		who  string
		want int // hidden: 404; readable but not writable: 403
	}{{forestiera, http.StatusNotFound}, {lettrice, http.StatusForbidden}} {
		c := g.As(tc.who, pw(tc.who))
		src := "/guastalla/2020/sorgente-" + tc.who + ".txt"
		mustStatus(t, c, "PUT", src, nil, "sorgente", http.StatusCreated)
		for _, method := range []string{"COPY", "MOVE"} {
			for _, overwrite := range []string{"T", "F", ""} {
				got := map[string]answer{}
				for name, dst := range map[string]string{"existing": "/luzzara/2020/b.txt", "missing": "/luzzara/2020/nessuno.txt",
					"missing folder": "/luzzara/2099/nessuno.txt", "existing folder": "/luzzara/2020"} {
					h := map[string]string{"Destination": g.URL + dst}
					if overwrite != "" {
						h["Overwrite"] = overwrite
					}
					code, body, _ := c.Status(method, src, h, "")
					got[name] = answer{code, body}
				}
				sameAnswers(t, fmt.Sprintf("%s %s Overwrite %q", tc.who, method, overwrite), tc.want, got)
			}
		}
		mustStatus(t, c, "GET", src, nil, "", http.StatusOK)
	}
	if code, body, _ := g.Status("GET", "/luzzara/2020/b.txt", nil, ""); code != 200 || body != secretText {
		t.Errorf("the document changed: %d %q", code, body)
	}
	for _, p := range []string{"/luzzara/2020/nessuno.txt", "/luzzara/2099"} {
		mustStatus(t, g, "PROPFIND", p, map[string]string{"Depth": "0"}, "", http.StatusNotFound)
	}
}

// TestPagesAreNoOracle: the pages answer for a path one may not read
// exactly as for a missing one, whether or not it exists.
func TestPagesAreNoOracle(t *testing.T) {
	g := oracleWorld(t)
	her := harness.NewBrowser(t, g)
	her.SignIn(forestiera, pw(forestiera))
	for _, tc := range []struct {
		page  string
		paths map[string]string
	}{
		{"details", map[string]string{"hidden": "/_/scheda/luzzara/2020/b.txt", "hidden, missing": "/_/scheda/luzzara/2020/nessuno.txt",
			"missing, her own": "/_/scheda/guastalla/2020/nessuno.txt", "hidden folder": "/_/scheda/luzzara/2020"}},
		{"folder", map[string]string{"hidden": "/_/archivio/luzzara/2020/", "hidden, missing": "/_/archivio/luzzara/2099/",
			"missing, her own": "/_/archivio/guastalla/2099/", "hidden Comune": "/_/archivio/luzzara/"}},
		{"zip", map[string]string{"hidden": "/_/zip/luzzara/2020", "hidden, missing": "/_/zip/luzzara/2099",
			"missing, her own": "/_/zip/guastalla/2099", "hidden file": "/_/zip/luzzara/2020/b.txt"}},
	} {
		got := map[string]answer{}
		for name, p := range tc.paths {
			code, body := her.Get(p)
			got[name] = answer{code, body}
		}
		// What is hidden is missing, word for word; a page missing in her
		// own Comune leads back to the nearest folder she may open there,
		// the rest the same.
		if got["hidden"] != got["hidden, missing"] {
			t.Errorf("%s: hidden and missing differ: %s", tc.page, firstDifference(got["hidden"].body, got["hidden, missing"].body))
		}
		for name, a := range got {
			a.body = wayBack.ReplaceAllString(a.body, "")
			got[name] = a
		}
		sameAnswers(t, tc.page, http.StatusNotFound, got)
	}
	// The search finds a dossier of luzzara for the administrator; for
	// her, neither it nor its Comune, not even among the Comuni offered.
	mustStatus(t, g, "MKCOL", "/luzzara/2020/SCIA-2020-0007", nil, "", http.StatusCreated)
	admin := harness.NewBrowser(t, g)
	admin.SignIn(g.User, g.Pass)
	if code, body := admin.Get("/_/cerca?q=SCIA-2020-0007"); code != 200 || !strings.Contains(body, "/_/archivio/luzzara/2020/SCIA-2020-0007/") {
		t.Fatalf("the administrator's search: %d\n%.300s", code, body)
	}
	if code, body := her.Get("/_/cerca?q=SCIA-2020-0007"); code != 200 || strings.Contains(body, "SCIA-2020-0007/") || strings.Contains(body, "luzzara") {
		t.Errorf("her search: %d\n%s", code, body)
	}
}
