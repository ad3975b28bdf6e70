package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state/postgres"
	"github.com/bassareggiana/faldone/tests/harness"
)

// postgresDB makes a fresh database on the local PostgreSQL for one test
// and returns its URL.
func postgresDB(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("FALDONE_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable (%v): the test command starts it", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "faldone_replicas_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// replicaConfig makes what replicas share, a fresh PostgreSQL database, an
// S3 bucket and a server key, and returns the configuration of a gateway
// serving the Comune guastalla from them, the database's URL, the key and
// the S3 server.
func replicaConfig(t *testing.T) (yaml, dsn string, key []byte, srv *harness.S3Server) {
	t.Helper()
	dsn = postgresDB(t)
	srv = harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	keyFile := filepath.Join(t.TempDir(), "faldone.key")
	key = make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml = fmt.Sprintf(`state_url: %q
secret_file: %q
comuni:
  - id: guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
`, dsn, keyFile, bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	return yaml, dsn, key, srv
}

// TestTwoReplicas: two gateways on one PostgreSQL and one S3 bucket behave
// as one: locks, app passwords and grants taken or revoked through one are
// honoured by the other at the next request.
func TestTwoReplicas(t *testing.T) {
	yaml, dsn, _, _ := replicaConfig(t)
	a := harness.StartServe(t, yaml)
	b := harness.StartServe(t, yaml)

	// A lock taken through A holds on B.
	mustStatus(t, a, "PUT", "/guastalla/tavola.dwg", nil, "v1", http.StatusCreated)
	_, _, h := a.Status("LOCK", "/guastalla/tavola.dwg", map[string]string{"Timeout": "Second-600"}, lockExclusive)
	token := strings.Trim(h.Get("Lock-Token"), "<>")
	if token == "" {
		t.Fatal("LOCK through A gave no token")
	}
	mustStatus(t, b, "PUT", "/guastalla/tavola.dwg", nil, "v2", http.StatusLocked)
	mustStatus(t, b, "PUT", "/guastalla/tavola.dwg", map[string]string{"If": "(<" + token + ">)"}, "v2", http.StatusNoContent)
	mustStatus(t, a, "UNLOCK", "/guastalla/tavola.dwg", map[string]string{"Lock-Token": "<" + token + ">"}, "", http.StatusNoContent)

	// An app password created through A's personal page works on B;
	// revoked through B's page, A refuses it at the next request.
	wa := harness.NewBrowser(t, a)
	wa.SignIn(a.User, a.Pass)
	code, body := wa.Post("/_/password", url.Values{"nome": {"PC ufficio"}, "permessi": {"scrittura"}, "giorni": {"30"}})
	m := regexp.MustCompile(`id="segreto" readonly value="(fld_[a-z0-9]+)"`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create an app password through A: %d\n%.400s", code, body)
	}
	secret := m[1]
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.AppPasswords(context.Background(), a.User)
	if err != nil || len(list) != 1 {
		t.Fatalf("app passwords in the shared store: %v, %v", list, err)
	}
	ap := list[0]
	mustStatus(t, a.As(a.User, secret), "PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, "", 207)
	mustStatus(t, b.As(b.User, secret), "PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, "", 207)
	web := harness.NewBrowser(t, b)
	web.SignIn(b.User, b.Pass)
	if code, body := web.Post("/_/password/revoca", url.Values{"id": {ap.ID}}); code != 200 || strings.Contains(body, ap.ID) {
		t.Fatalf("revoke through B's page: %d", code)
	}
	mustStatus(t, a.As(a.User, secret), "PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, "", http.StatusUnauthorized)

	// A grant revoked through A's page denies on B.
	const tecnico = "TCNATV80A01H223A"
	if out, err := faldone(t, pw(tecnico)+"\n", "user", "add", tecnico, "--config", filepath.Join(a.DataDir, "faldone.yaml")); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	mustStatus(t, a, "MKCOL", "/guastalla/PC-2020-0001", nil, "", http.StatusCreated)
	mustStatus(t, a, "PUT", "/guastalla/PC-2020-0001/domanda.pdf", nil, "domanda", http.StatusCreated)
	wa.Get("/_/accessi")
	code, body = wa.Post("/_/accessi", url.Values{"persona": {tecnico}, "percorso": {"/guastalla/PC-2020-0001"}, "permessi": {"lettura"},
		"scadenza": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}, "motivo": {"Prot. 99/2026"}})
	id := regexp.MustCompile(`name="id" value="(g-[0-9a-f]+)"`).FindStringSubmatch(body)
	if code != 200 || id == nil {
		t.Fatalf("grant through A's page: %d\n%.500s", code, body)
	}
	grantee := b.As(tecnico, pw(tecnico))
	mustStatus(t, grantee, "GET", "/guastalla/PC-2020-0001/domanda.pdf", nil, "", http.StatusOK)
	if code, _ := wa.Post("/_/accessi/revoca", url.Values{"id": {id[1]}}); code != 200 {
		t.Fatalf("revoke the grant through A: %d", code)
	}
	mustStatus(t, grantee, "GET", "/guastalla/PC-2020-0001/domanda.pdf", nil, "", http.StatusNotFound)
}

// TestReplicasScrubOnce: two replicas scrubbing the same Comune, started
// together, read its files once between them (a lease in PostgreSQL), and
// a restart does not read them again before the interval is over.
func TestReplicasScrubOnce(t *testing.T) {
	yaml, _, _, srv := replicaConfig(t)
	yaml += "integrity:\n  scrub_interval: 1h\n"
	// Stored by another tool: each file's reading is a line, unknown.
	seed(t, srv, "guastalla/2019", 3)
	a, b := harness.StartServe(t, yaml), harness.StartServe(t, yaml)
	passes := func() int {
		return strings.Count(a.Log(), `msg="scrub: Comune verified" comune=guastalla`) +
			strings.Count(b.Log(), `msg="scrub: Comune verified" comune=guastalla`)
	}
	for deadline := time.Now().Add(20 * time.Second); passes() == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	check := func(when string) {
		t.Helper()
		unknown := strings.Count(a.Log()+b.Log(), `msg="scrub: file not proved intact" comune=guastalla path=/guastalla/2019/`)
		if n := passes(); n != 1 || unknown != 3 {
			t.Errorf("%s: %d scrubs of guastalla and %d problem lines, want 1 and 3\n--- A:\n%s\n--- B:\n%s", when, n, unknown, a.Log(), b.Log())
		}
	}
	time.Sleep(2 * time.Second) // both have tried by now: each tries at start
	check("after both started")
	a.Restart()
	b.Restart()
	time.Sleep(2 * time.Second)
	check("after both restarted")
}
