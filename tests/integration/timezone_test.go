package integration

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// faldoneIn runs the binary with env added to its environment.
func faldoneIn(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTimeZone: on a server whose clock runs in UTC, the pages show times
// in time_zone (Europe/Rome by default); a day given to `grant add
// --until` or to the grant form ends at midnight in that zone; the command
// line prints its times in it and names it.
func TestTimeZone(t *testing.T) {
	const dossier = "/guastalla/2019/PC-2019-0042"
	g := harness.StartDemo(t, "", "TZ=UTC")
	day := time.Now().AddDate(0, 1, 0)
	until := day.Format("2006-01-02")
	endIn := func(zone string) string { // midnight after the day, in zone
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc).Format(time.RFC3339)
	}

	// The command line, in the default zone and in configured ones.
	for _, tt := range []struct {
		zone   string // FALDONE_TIME_ZONE; "" the default
		person string
		want   string
	}{
		{"", "RSSMRA80A01H223Y", "Europe/Rome"},
		{"UTC", "VRDGPP80A01H223W", "UTC"},
		{"America/New_York", "BNCLRA80A41H223H", "America/New_York"},
	} {
		t.Run("grant add "+tt.want, func(t *testing.T) {
			env := []string{"TZ=UTC"}
			if tt.zone != "" {
				env = append(env, "FALDONE_TIME_ZONE="+tt.zone)
			}
			out, err := faldoneIn(t, env, "grant", "add", "--person", tt.person, "--path", dossier, "--until", until, "--reason", "Prot. 1/2026", "--data", g.DataDir)
			if err != nil || !strings.Contains(out, "through "+until) || !strings.Contains(out, endIn(tt.want)) {
				t.Fatalf("grant add: %v\n%s\nwant it to end at %s", err, out, endIn(tt.want))
			}
			out, err = faldoneIn(t, env, "grant", "list", "--person", tt.person, "--data", g.DataDir)
			if err != nil || !strings.Contains(out, "ENDS ("+tt.want+")") || !strings.Contains(out, endIn(tt.want)) || !strings.Contains(out, until) {
				t.Fatalf("grant list: %v\n%s\nwant the header to name %s and the grant to end at %s", err, out, tt.want, endIn(tt.want))
			}
		})
	}

	// The grant form on the page reads its day in the same zone.
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	b.Get("/_/accessi")
	const formPerson = "GLLMRC80A01H223K"
	code, page := b.Post("/_/accessi", url.Values{"persona": {formPerson}, "percorso": {dossier}, "scadenza": {until},
		"motivo": {"Prot. 2/2026"}, "permessi": {"lettura"}})
	if code != http.StatusOK || !strings.Contains(page, formPerson) {
		t.Fatalf("grant form: %d\n%.600s", code, page)
	}
	if want := day.Format("02/01/2006"); !strings.Contains(page, want) {
		t.Errorf("the grants page does not show the last day %s", want)
	}
	out, err := faldoneIn(t, []string{"TZ=UTC"}, "grant", "list", "--person", formPerson, "--data", g.DataDir)
	if err != nil || !strings.Contains(out, endIn("Europe/Rome")) {
		t.Errorf("the form's grant: %v\n%s\nwant it to end at %s", err, out, endIn("Europe/Rome"))
	}

	// A file's time on its page, and a lock's expiry on the command line.
	rome, _ := time.LoadLocation("Europe/Rome")
	before := time.Now()
	if code, _, _ := g.Status("PUT", dossier+"/orario.txt", nil, "ora"); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	code, page = b.Get("/_/scheda" + dossier + "/orario.txt")
	after := time.Now()
	shown := false
	for _, m := range []time.Time{before, after} {
		shown = shown || strings.Contains(page, m.In(rome).Format("02/01/2006 15:04"))
	}
	if code != http.StatusOK || !shown {
		t.Errorf("file page: %d, does not show the time of the upload in Rome (%s)\n%.2000s", code, before.In(rome).Format("02/01/2006 15:04"), page)
	}
	lock := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
	if code, _, _ := g.Status("LOCK", dossier+"/orario.txt", map[string]string{"Timeout": "Second-3600"}, lock); code != http.StatusOK {
		t.Fatalf("LOCK: %d", code)
	}
	out, err = faldoneIn(t, []string{"TZ=UTC"}, "locks", "list", "--data", g.DataDir)
	if err != nil || !strings.Contains(out, "EXPIRES (Europe/Rome)") {
		t.Fatalf("locks list: %v\n%s", err, out)
	}
	var expires time.Time
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, "orario.txt") {
			if expires, err = time.Parse(time.RFC3339, f[len(f)-1]); err != nil {
				t.Fatalf("lock expiry %q: %v", f[len(f)-1], err)
			}
		}
	}
	_, off := expires.Zone()
	_, romeOff := expires.In(rome).Zone()
	if off != romeOff || expires.Before(before.Add(59*time.Minute)) || expires.After(after.Add(61*time.Minute)) {
		t.Errorf("lock expiry %v: want an hour from now with Rome's offset", expires)
	}
}
