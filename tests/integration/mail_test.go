package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestMailNotices: with mail configured against a real SMTP server (npm
// smtp-server, over STARTTLS with a password), a technician granted a
// dossier on the managers' page gets its message at the address their
// SPID sign-in gave, with the dossier's number, subject and path, the last
// day and how to sign in and map the drive; a grant ending tomorrow gets
// its warning; a grant from the command line goes to the address given
// with it; a refused address fails nothing; a manager who signed in with
// SPID gets the summary of the requests refused in their Comune, and only
// theirs; nothing is sent twice, a restart included; and no full address,
// nor the SMTP password, is in the server's log.
func TestMailNotices(t *testing.T) {
	const (
		rossiCF      = "RSSMRA80A01H223Y" // a technician who signs in with SPID
		rossiMail    = "mario.rossi@studio-rossi.example"
		bianchiCF    = "BNCLRA75C41H223Z" // the manager of Guastalla, who signs in with SPID
		bianchiMail  = "laura.bianchi@comune-guastalla.example"
		verdiCF      = "VRDGPP13R10B293J" // a technician who never signed in
		verdiMail    = "studio.verdi@example.it"
		neriCF       = "NREGNN90A41H223K" // a technician whose address the server refuses
		refusedMail  = "rifiuta.neri@example.it"
		clientSecret = "segreto-del-client-faldone-0123456789"
		smtpPass     = "parola-smtp-di-prova-0123"
		dossier      = "/guastalla/2019/PC-2019-0042"
		subject      = "Ampliamento di fabbricato residenziale"
	)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := faldone(t, "", "cert", "--host", "127.0.0.1", "--out", dir); err != nil {
		t.Fatalf("cert: %v\n%s", err, out)
	}
	passFile := filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(passFile, []byte(smtpPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	smtp := harness.StartSMTP(t, harness.SMTPConfig{TLS: "starttls", CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"),
		User: "faldone", Pass: smtpPass, Reject: "^rifiuta"})

	addr := harness.FreePort(t)
	base := "http://" + addr
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{{ID: "faldone", Secret: clientSecret, RedirectURIs: []string{base + "/_/accedi/ritorno"}}},
		Users: []harness.OIDCUser{
			{ID: "rossi", FiscalNumber: "TINIT-" + rossiCF, GivenName: "Mario", FamilyName: "Rossi", Email: rossiMail},
			{ID: "bianchi", FiscalNumber: "TINIT-" + bianchiCF, GivenName: "Laura", FamilyName: "Bianchi", Email: bianchiMail},
		},
	})
	g := harness.StartServeOn(t, addr, fmt.Sprintf(`oidc:
  issuer: %s
  client_id: faldone
  redirect_url: %s/_/accedi/ritorno
access:
  admins: [operatore]
  assignments:
    - {person: %s, comune: guastalla, role: manager}
    - {person: lettore, comune: guastalla, role: reader}
mail:
  smtp_host: 127.0.0.1
  smtp_port: %d
  tls: starttls
  ca_file: %s
  username: faldone
  password_file: %s
  from: "Archivio pratiche edilizie <archivio@bassareggiana.example>"
  public_url: https://archivio.bassareggiana.example/
  expiry_warning_days: 3
  summary_interval: 8s
  check_interval: 1s
`, op.Issuer, base, bianchiCF, smtp.Port, filepath.Join(dir, "cert.pem"), passFile), "FALDONE_OIDC_CLIENT_SECRET="+clientSecret)

	// The dossier, with a record whose subject the messages tell.
	mustStatus(t, g, "MKCOL", "/guastalla/2019", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", dossier, nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", dossier+"/domanda.pdf", nil, "domanda", http.StatusCreated)
	admin := harness.NewBrowser(t, g)
	admin.SignIn(g.User, g.Pass)
	admin.Get("/_/fascicolo" + dossier)
	if code, body := admin.Post("/_/fascicolo"+dossier, url.Values{"tipo": {"PdC"}, "numero": {"PC-2019-0042"}, "anno": {"2019"}, "oggetto": {subject}}); code != http.StatusOK || !strings.Contains(body, subject) {
		t.Fatalf("saving the record: %d\n%.600s", code, body)
	}

	// Both sign in with SPID: their provider's addresses are kept.
	harness.NewBrowser(t, g).SignInSPID("rossi")
	manager := harness.NewBrowser(t, g)
	manager.SignInSPID("bianchi")

	today := time.Now().In(rome)
	tomorrow := today.AddDate(0, 0, 1)
	grant := func(person, until, email string) (int, string) {
		manager.Get("/_/accessi")
		return manager.Post("/_/accessi", url.Values{"persona": {person}, "percorso": {dossier}, "scadenza": {until},
			"motivo": {"Prot. 4242/2026"}, "permessi": {"lettura"}, "email": {email}})
	}
	to := func(addr string) func(harness.Mail) bool {
		return func(m harness.Mail) bool { return slices.Equal(m.To, []string{addr}) }
	}
	and := func(a func(harness.Mail) bool, prefix string) func(harness.Mail) bool {
		return func(m harness.Mail) bool { return a(m) && strings.HasPrefix(m.Subject, prefix) }
	}

	t.Run("grant on the page, to the address of the sign-in", func(t *testing.T) {
		if code, body := grant(rossiCF, tomorrow.Format("2006-01-02"), ""); code != http.StatusOK || !strings.Contains(body, rossiCF) {
			t.Fatalf("grant: %d\n%.600s", code, body)
		}
		last := tomorrow.Format("02/01/2006")
		m := smtp.WaitFor(t, 30*time.Second, "of the grant to Rossi", and(to(rossiMail), "Accesso alla pratica"))
		if want := "Accesso alla pratica PC-2019-0042 (Guastalla) fino al " + last; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		for _, s := range []string{"Pratica:    PC-2019-0042", "Oggetto:    " + subject, "Percorso:   " + dossier, "Comune:     Guastalla",
			"Protocollo: Prot. 4242/2026", "in sola lettura", "valido fino al " + last + " compreso", "https://archivio.bassareggiana.example/",
			"«Entra con SPID»", "password per applicazioni", rossiCF} {
			if !strings.Contains(m.Body, s) {
				t.Errorf("the grant's message lacks %q:\n%s", s, m.Body)
			}
		}
		if !m.Secure || m.User != "faldone" || m.From != "archivio@bassareggiana.example" {
			t.Errorf("sent secure %v, as %q, from %q: want over TLS, authenticated as faldone, from the configured sender", m.Secure, m.User, m.From)
		}
		if from := m.Header.Get("From"); !strings.Contains(from, "<archivio@bassareggiana.example>") {
			t.Errorf("From %q", from)
		}
	})

	t.Run("the warning of a grant that ends tomorrow", func(t *testing.T) {
		m := smtp.WaitFor(t, 30*time.Second, "of the warning to Rossi", and(to(rossiMail), "L'accesso alla pratica"))
		if want := "L'accesso alla pratica PC-2019-0042 (Guastalla) scade il " + tomorrow.Format("02/01/2006"); m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		for _, s := range []string{"scade domani, " + tomorrow.Format("02/01/2006"), "Percorso:   " + dossier, "proroga", "«Entra con SPID»"} {
			if !strings.Contains(m.Body, s) {
				t.Errorf("the warning lacks %q:\n%s", s, m.Body)
			}
		}
	})

	t.Run("grant from the command line, to the address given", func(t *testing.T) {
		until := today.AddDate(0, 0, 10)
		env := []string{"FALDONE_OIDC_CLIENT_SECRET=" + clientSecret}
		out, err := faldoneIn(t, env, "grant", "add", "--person", verdiCF, "--path", dossier, "--until", until.Format("2006-01-02"),
			"--reason", "Prot. 7/2026", "--email", verdiMail, "--config", g.ConfigFile(), "--data", g.DataDir)
		if err != nil {
			t.Fatalf("grant add: %v\n%s", err, out)
		}
		if strings.Contains(out, verdiMail) || !strings.Contains(out, "s…@example.it") {
			t.Errorf("grant add printed the address, or not its mask:\n%s", out)
		}
		m := smtp.WaitFor(t, 30*time.Second, "of the grant to Verdi", to(verdiMail))
		if want := "Accesso alla pratica PC-2019-0042 (Guastalla) fino al " + until.Format("02/01/2006"); m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		if out, err := faldoneIn(t, env, "grant", "add", "--person", verdiCF, "--path", dossier, "--until", until.Format("2006-01-02"),
			"--reason", "Prot. 7/2026", "--email", "non-un-indirizzo", "--config", g.ConfigFile(), "--data", g.DataDir); err == nil || !strings.Contains(out, "--email") {
			t.Errorf("grant add with a bad --email: %v\n%s", err, out)
		}
	})

	t.Run("an address the server refuses fails nothing", func(t *testing.T) {
		code, body := grant(neriCF, today.AddDate(0, 0, 20).Format("2006-01-02"), refusedMail)
		if code != http.StatusOK || !strings.Contains(body, neriCF) {
			t.Fatalf("grant: %d\n%.600s", code, body)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(g.Log(), "e-mail not sent") {
			if time.Now().After(deadline) {
				t.Fatalf("no failure logged:\n%s", g.Log())
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.Contains(g.Log(), "r…@example.it") || !strings.Contains(g.Log(), "550") {
			t.Errorf("the failure's log line lacks the masked address or the server's code:\n%s", g.Log())
		}
		code, body = grant(neriCF, today.AddDate(0, 0, 20).Format("2006-01-02"), "non è un indirizzo")
		if code != http.StatusBadRequest || !strings.Contains(body, "non è un indirizzo valido") {
			t.Errorf("grant with a bad e-mail: %d\n%.600s", code, body)
		}
	})

	t.Run("the managers' summary of refusals", func(t *testing.T) {
		lettore := g.AddUser("lettore", "lettore-Pw-42")
		mustStatus(t, lettore, "PUT", dossier+"/nota.txt", nil, "nota", http.StatusForbidden)
		// Refused in Luzzara, which Bianchi does not manage.
		mustStatus(t, g, "PROPFIND", "/luzzara/", map[string]string{"Depth": "infinity"}, "", http.StatusForbidden)
		m := smtp.WaitFor(t, 40*time.Second, "of the summary to Bianchi", and(to(bianchiMail), "Richieste rifiutate"))
		for _, s := range []string{"Guastalla: 1 richiesta rifiutata", "lettore  PUT " + dossier + "/nota.txt", "faldone audit --comune guastalla"} {
			if !strings.Contains(m.Body, s) {
				t.Errorf("the summary lacks %q:\n%s", s, m.Body)
			}
		}
		if strings.Contains(m.Body, "/luzzara") || strings.Contains(m.Subject, "Luzzara") {
			t.Errorf("the summary tells of a Comune its reader does not manage:\n%s", m.Body)
		}
		for _, m := range smtp.Messages(t) {
			if strings.HasPrefix(m.Subject, "Richieste rifiutate") && !slices.Equal(m.To, []string{bianchiMail}) {
				t.Errorf("a summary to %v, who manages nothing", m.To)
			}
		}
	})

	t.Run("nothing twice, a restart included", func(t *testing.T) {
		count := func() map[string]int {
			c := map[string]int{}
			for _, m := range smtp.Messages(t) {
				c[strings.Join(m.To, ",")+" "+strings.SplitN(m.Subject, " ", 3)[0]]++
			}
			return c
		}
		want := map[string]int{
			rossiMail + " Accesso": 1, rossiMail + " L'accesso": 1, verdiMail + " Accesso": 1, bianchiMail + " Richieste": 1,
		}
		check := func(when string) {
			if got := count(); !mapsEqual(got, want) {
				t.Errorf("%s: messages %v, want %v", when, got, want)
			}
		}
		check("before the restart")
		g.Restart()
		// Every check runs once a second, every summary period is 8 s:
		// well over two of each.
		time.Sleep(20 * time.Second)
		check("after the restart")
	})

	log := g.Log()
	for _, secret := range []string{rossiMail, bianchiMail, verdiMail, refusedMail, smtpPass} {
		if strings.Contains(log, secret) {
			t.Errorf("the server's log holds %q", secret)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMailReplicas: two replicas on one PostgreSQL, both with mail on (in
// clear, to a relay on this host), check every second: each grant's
// message, its warning and the manager's summary go out once, whichever
// replica made the grant or saw the refusal.
func TestMailReplicas(t *testing.T) {
	const (
		bianchiCF    = "BNCLRA75C41H223Z"
		bianchiMail  = "laura.bianchi@comune-guastalla.example"
		verdiCF      = "VRDGPP13R10B293J"
		verdiMail    = "studio.verdi@example.it"
		clientSecret = "segreto-del-client-faldone-0123456789"
		dossier      = "/guastalla/2019/PC-2019-0042"
	)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	smtp := harness.StartSMTP(t, harness.SMTPConfig{})
	dsn := postgresDB(t)
	shared := t.TempDir()
	keyFile := filepath.Join(shared, "faldone.key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrA, addrB := harness.FreePort(t), harness.FreePort(t)
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{{ID: "faldone", Secret: clientSecret, RedirectURIs: []string{"http://" + addrA + "/_/accedi/ritorno"}}},
		Users:   []harness.OIDCUser{{ID: "bianchi", FiscalNumber: "TINIT-" + bianchiCF, GivenName: "Laura", FamilyName: "Bianchi", Email: bianchiMail}},
	})
	yaml := func(addr string) string {
		return fmt.Sprintf(`state_url: %q
secret_file: %q
comuni:
  - {id: guastalla, name: Guastalla, storage: "file:%s"}
oidc:
  issuer: %s
  client_id: faldone
  redirect_url: http://%s/_/accedi/ritorno
access:
  admins: [operatore]
  assignments:
    - {person: %s, comune: guastalla, role: manager}
    - {person: lettore, comune: guastalla, role: reader}
mail:
  smtp_host: 127.0.0.1
  smtp_port: %d
  tls: none
  from: archivio@bassareggiana.example
  public_url: https://archivio.bassareggiana.example/
  summary_interval: 6s
  check_interval: 1s
`, dsn, keyFile, filepath.Join(shared, "guastalla"), op.Issuer, addrA, bianchiCF, smtp.Port)
	}
	env := "FALDONE_OIDC_CLIENT_SECRET=" + clientSecret
	a := harness.StartServeOn(t, addrA, yaml(addrA), env)
	b := harness.StartServeOn(t, addrB, yaml(addrA), env)
	mustStatus(t, a, "MKCOL", "/guastalla/2019", nil, "", http.StatusCreated)
	mustStatus(t, b, "MKCOL", dossier, nil, "", http.StatusCreated)
	add := exec.Command(harness.Binary(t), "user", "add", "lettore", "--config", b.ConfigFile(), "--data", b.DataDir)
	add.Env, add.Stdin = append(os.Environ(), env), strings.NewReader("lettore-Pw-42\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}

	manager := harness.NewBrowser(t, a)
	manager.SignInSPID("bianchi")
	manager.Get("/_/accessi")
	tomorrow := time.Now().In(rome).AddDate(0, 0, 1)
	if code, body := manager.Post("/_/accessi", url.Values{"persona": {verdiCF}, "percorso": {dossier}, "scadenza": {tomorrow.Format("2006-01-02")},
		"motivo": {"Prot. 9/2026"}, "email": {verdiMail}}); code != http.StatusOK || !strings.Contains(body, verdiCF) {
		t.Fatalf("grant: %d\n%.600s", code, body)
	}
	mustStatus(t, b.As("lettore", "lettore-Pw-42"), "PUT", dossier+"/nota.txt", nil, "nota", http.StatusForbidden)
	smtp.WaitFor(t, 30*time.Second, "of the grant", func(m harness.Mail) bool { return strings.HasPrefix(m.Subject, "Accesso alla pratica") })
	smtp.WaitFor(t, 30*time.Second, "of the warning", func(m harness.Mail) bool { return strings.HasPrefix(m.Subject, "L'accesso alla pratica") })
	smtp.WaitFor(t, 40*time.Second, "of the summary", func(m harness.Mail) bool {
		return strings.HasPrefix(m.Subject, "Richieste rifiutate") && strings.Contains(m.Body, "lettore  PUT "+dossier+"/nota.txt")
	})
	// Both replicas go on checking, every second, for two summary periods.
	time.Sleep(14 * time.Second)
	got := map[string]int{}
	for _, m := range smtp.Messages(t) {
		got[strings.Join(m.To, ",")+" "+strings.SplitN(m.Subject, " ", 3)[0]]++
	}
	want := map[string]int{verdiMail + " Accesso": 1, verdiMail + " L'accesso": 1, bianchiMail + " Richieste": 1}
	if !mapsEqual(got, want) {
		t.Errorf("messages %v, want %v", got, want)
	}
}

// TestMailTLSModes: `grant add` sends the grant's message itself, waiting
// for it, over implicit TLS as over STARTTLS; it never falls back to a
// clear connection when STARTTLS is missing, and a refused password is
// said; neither failure fails the grant.
func TestMailTLSModes(t *testing.T) {
	const dossier = "/guastalla/2019/PC-2019-0042"
	certDir := t.TempDir()
	if out, err := faldone(t, "", "cert", "--host", "127.0.0.1", "--out", certDir); err != nil {
		t.Fatalf("cert: %v\n%s", err, out)
	}
	cert, key := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")
	for _, tc := range []struct {
		name      string
		server    harness.SMTPConfig
		tls, pass string
		arrives   bool
		says      string
	}{
		{"implicit TLS", harness.SMTPConfig{TLS: "tls", CertFile: cert, KeyFile: key, User: "faldone", Pass: "parola-0123"}, "tls", "parola-0123", true, "e-mail sent"},
		{"STARTTLS", harness.SMTPConfig{TLS: "starttls", CertFile: cert, KeyFile: key, User: "faldone", Pass: "parola-0123"}, "starttls", "parola-0123", true, "e-mail sent"},
		{"STARTTLS not offered", harness.SMTPConfig{User: "faldone", Pass: "parola-0123"}, "starttls", "parola-0123", false, "does not offer STARTTLS"},
		{"a wrong password", harness.SMTPConfig{TLS: "starttls", CertFile: cert, KeyFile: key, User: "faldone", Pass: "parola-0123"}, "starttls", "sbagliata-0123", false, "535"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			smtp := harness.StartSMTP(t, tc.server)
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "archivio", "guastalla", "2019", "PC-2019-0042"), 0o755); err != nil {
				t.Fatal(err)
			}
			passFile := filepath.Join(dir, "smtp-password")
			if err := os.WriteFile(passFile, []byte(tc.pass+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "faldone.yaml")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`mail:
  smtp_host: 127.0.0.1
  smtp_port: %d
  tls: %s
  ca_file: %s
  username: faldone
  password_file: %s
  from: archivio@bassareggiana.example
  public_url: https://archivio.bassareggiana.example/
`, smtp.Port, tc.tls, cert, passFile)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := faldone(t, "", "grant", "add", "--person", "VRDGPP13R10B293J", "--path", dossier,
				"--until", time.Now().AddDate(0, 0, 30).Format("2006-01-02"), "--reason", "Prot. 1/2026", "--email", "studio.verdi@example.it",
				"--config", cfg, "--data", dir)
			if err != nil || !strings.Contains(out, "grant g-") {
				t.Fatalf("grant add: %v\n%s", err, out)
			}
			if !strings.Contains(out, tc.says) || strings.Contains(out, "studio.verdi@") || strings.Contains(out, tc.pass) {
				t.Errorf("grant add said, want %q and neither the address nor the password:\n%s", tc.says, out)
			}
			if tc.arrives {
				m := smtp.WaitFor(t, 10*time.Second, "of the grant", func(m harness.Mail) bool { return slices.Equal(m.To, []string{"studio.verdi@example.it"}) })
				if !m.Secure || m.User != "faldone" {
					t.Errorf("sent secure %v as %q, want over TLS as faldone", m.Secure, m.User)
				}
			} else if ms := smtp.Messages(t); len(ms) != 0 {
				t.Errorf("%d messages arrived, want none", len(ms))
			}
			list, err := faldone(t, "", "grant", "list", "--config", cfg, "--data", dir)
			if err != nil || !strings.Contains(list, "VRDGPP13R10B293J") {
				t.Errorf("grant list: %v\n%s", err, list)
			}
		})
	}
}
