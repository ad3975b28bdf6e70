package notify

import (
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestAddress(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"mario.rossi@example.it", "mario.rossi@example.it"},
		{"  mario.rossi@example.it\t", "mario.rossi@example.it"},
		{"Mario Rossi <mario.rossi@example.it>", "mario.rossi@example.it"},
		{"studio+faldone@studio-rossi.example.it", "studio+faldone@studio-rossi.example.it"},
		{"nicolò@città.example.it", "nicolò@città.example.it"},
		{"", ""},
		{"   ", ""},
		{"mario.rossi", ""},
		{"@example.it", ""},
		{"mario@", ""},
		{"mario rossi@example.it", ""},
		{"a@example.it, b@example.it", ""},
		{"a@example.it\r\nBcc: x@example.it", ""},
		{"a\x00@example.it", ""},
		{"\xff@example.it", ""},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61), strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)}, // 254
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62), ""},                                                                                                                      // 255
	} {
		got, err := Address(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrBadAddress) {
				t.Errorf("Address(%q) = %q, %v; want ErrBadAddress", tt.in, got, err)
			}
			if err != nil && strings.Contains(err.Error(), "@") {
				t.Errorf("Address(%q): the error %q repeats the address", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Address(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"mario.rossi@example.it", "m…@example.it"},
		{"nicolò@città.example.it", "n…@città.example.it"},
		{"è@example.it", "è…@example.it"},
		{"@example.it", "…@example.it"},
		{"not an address", "…"},
		{"", "…"},
	} {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	err := &SendError{Step: "RCPT", Code: 550, Permanent: true, Err: errors.New("5.1.1 <mario.rossi@example.it>: Recipient address rejected")}
	if got := err.Error(); strings.Contains(got, "mario.rossi@") || !strings.Contains(got, "m…@example.it") || !strings.Contains(got, "550") {
		t.Errorf("SendError = %q: want the code and the address masked", got)
	}
}

var (
	rome = mustZone("Europe/Rome")
	site = Site{Service: "Archivio pratiche edilizie", Owner: "Unione dei Comuni della Bassa Reggiana",
		PublicURL: "https://archivio.bassareggiana.it", HelpText: "Ufficio archivio, 9–13", HelpEmail: "archivio@bassareggiana.it"}
)

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func TestGrantMessages(t *testing.T) {
	last := time.Date(2026, 12, 31, 0, 0, 0, 0, rome)
	catalogued := Grant{
		Dossier: Dossier{Path: "/guastalla/2019/PC-2019-0042", Comune: "Guastalla", Number: "PC-2019-0042", Subject: "Ampliamento di fabbricato residenziale"},
		LastDay: last, Reason: "Prot. 4242/2026", Person: "RSSMRA80A01H501U",
	}
	bare := Grant{Dossier: Dossier{Path: "/luzzara/2020/Cartella è", Comune: "Luzzara"}, Write: true, LastDay: last, Reason: "Prot. 1/2026"}
	for _, tt := range []struct {
		name        string
		msg         Message
		subject     string
		contains    []string
		notContains []string
	}{
		{"grant with a record", GrantMessage(site, "rossi@example.it", catalogued),
			"Accesso alla pratica PC-2019-0042 (Guastalla) fino al 31/12/2026",
			[]string{"concesso l'accesso in sola lettura a una pratica edilizia del servizio «Archivio pratiche edilizie» (Unione dei Comuni della Bassa Reggiana).", "Pratica:    PC-2019-0042", "Oggetto:    Ampliamento di fabbricato residenziale", "Percorso:   /guastalla/2019/PC-2019-0042",
				"Protocollo: Prot. 4242/2026", "valido fino al 31/12/2026 compreso", "https://archivio.bassareggiana.it/", "«Entra con SPID»",
				"password per applicazioni", "RSSMRA80A01H501U", "Assistenza: Ufficio archivio, 9–13 · archivio@bassareggiana.it"},
			[]string{"scrittura"}},
		{"grant without a record, writing", GrantMessage(site, "studio@example.it", bare),
			"Accesso alla pratica /luzzara/2020/Cartella è fino al 31/12/2026",
			[]string{"in lettura e scrittura", "Percorso:   /luzzara/2020/Cartella è", "Comune:     Luzzara", "31/12/2026"},
			[]string{"Pratica:    ", "Oggetto:"}},
		{"warning, days ahead", ExpiryMessage(site, "rossi@example.it", catalogued, time.Date(2026, 12, 28, 9, 0, 0, 0, rome)),
			"L'accesso alla pratica PC-2019-0042 (Guastalla) scade il 31/12/2026",
			[]string{"scade il 31/12/2026", "proroga", "Percorso:   /guastalla/2019/PC-2019-0042", "«Entra con SPID»"},
			[]string{"domani", "oggi"}},
		{"warning, the day before", ExpiryMessage(site, "rossi@example.it", catalogued, time.Date(2026, 12, 30, 23, 30, 0, 0, rome)),
			"L'accesso alla pratica PC-2019-0042 (Guastalla) scade il 31/12/2026",
			[]string{"scade domani, 31/12/2026"}, nil},
		{"warning, the last day (UTC clock still the day before)", ExpiryMessage(site, "rossi@example.it", catalogued, time.Date(2026, 12, 30, 23, 30, 0, 0, time.UTC)),
			"L'accesso alla pratica PC-2019-0042 (Guastalla) scade il 31/12/2026",
			[]string{"scade oggi, 31/12/2026"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.msg.Subject != tt.subject {
				t.Errorf("subject %q, want %q", tt.msg.Subject, tt.subject)
			}
			for _, s := range tt.contains {
				if !strings.Contains(tt.msg.Body, s) {
					t.Errorf("the body lacks %q:\n%s", s, tt.msg.Body)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(tt.msg.Body, s) {
					t.Errorf("the body has %q:\n%s", s, tt.msg.Body)
				}
			}
		})
	}
}

func TestSummaryMessage(t *testing.T) {
	from := time.Date(2026, 12, 5, 7, 0, 0, 0, rome)
	until := from.AddDate(0, 0, 1)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 5, h, m, 0, 0, rome) }
	many := ComuneRefusals{ID: "luzzara", Name: "Luzzara", Count: MaxSummaryLines + 7}
	for i := range MaxSummaryLines {
		many.Refusals = append(many.Refusals, Refusal{Time: at(10, i), Person: "VRDGPP13R10B293J", Method: "PROPFIND", Path: "/luzzara/2020"})
	}
	for _, tt := range []struct {
		name        string
		s           Summary
		subject     string
		contains    []string
		notContains []string
	}{
		{"one Comune", Summary{From: from, Until: until, Comuni: []ComuneRefusals{{ID: "guastalla", Name: "Guastalla", Count: 2, Refusals: []Refusal{
			{Time: at(8, 15), Person: "RSSMRA80A01H501U", Method: "GET", Path: "/guastalla/2019/PC-2019-0042/tavola.pdf", Client: "192.0.2.10"},
			{Time: at(9, 0).Add(30 * time.Second), Method: "DELETE", Path: "/guastalla/2019"},
		}}}},
			"Richieste rifiutate nell'archivio: 2 (Guastalla) fino al 06/12/2026 07:00",
			[]string{"dal 05/12/2026 07:00 al 06/12/2026 07:00", "Guastalla: 2 richieste rifiutate",
				"05/12 08:15:00  RSSMRA80A01H501U  GET /guastalla/2019/PC-2019-0042/tavola.pdf  (da 192.0.2.10)",
				"05/12 09:00:30  (non autenticato)  DELETE /guastalla/2019\n",
				"faldone audit --comune guastalla --since 2026-12-05T07:00:00+01:00 --until 2026-12-06T07:00:00+01:00"},
			[]string{"e altre"}},
		{"two Comuni, one over the limit", Summary{From: from, Until: until, Comuni: []ComuneRefusals{
			{ID: "guastalla", Name: "Guastalla", Count: 1, Refusals: []Refusal{{Time: at(8, 15), Person: "RSSMRA80A01H501U", Method: "GET", Path: "/guastalla/x"}}},
			many,
		}},
			"Richieste rifiutate nell'archivio: 58 (Guastalla, Luzzara) fino al 06/12/2026 07:00",
			[]string{"Guastalla: 1 richiesta rifiutata", "Luzzara: 57 richieste rifiutate", "… e altre 7", "--comune luzzara"},
			nil},
		{"a period of seconds, one refusal more than listed", Summary{From: from.Add(10 * time.Second), Until: from.Add(20 * time.Second), Comuni: []ComuneRefusals{
			{ID: "guastalla", Name: "Guastalla", Count: 2, Refusals: []Refusal{{Time: from.Add(15 * time.Second), Person: "RSSMRA80A01H501U", Method: "GET", Path: "/guastalla/x"}}},
		}},
			"Richieste rifiutate nell'archivio: 2 (Guastalla) fino al 05/12/2026 07:00:20",
			[]string{"dal 05/12/2026 07:00:10 al 05/12/2026 07:00:20", "… e un'altra"},
			nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := SummaryMessage(site, "responsabile@example.it", tt.s, rome)
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			for _, s := range tt.contains {
				if !strings.Contains(m.Body, s) {
					t.Errorf("the body lacks %q:\n%s", s, m.Body)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(m.Body, s) {
					t.Errorf("the body has %q:\n%s", s, m.Body)
				}
			}
		})
	}
}

// TestEncode: the message a server receives reads back, with a mail
// reader's decoding, as composed.
func TestEncode(t *testing.T) {
	from := &mail.Address{Name: "Archivio pratiche – Unione", Address: "archivio@bassareggiana.it"}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, rome)
	for _, tt := range []struct {
		name string
		m    Message
	}{
		{"ASCII", Message{To: "rossi@example.it", Subject: "Accesso alla pratica PC-2019-0042", Body: "Riga uno\nRiga due\n"}},
		{"accents and a long line", Message{To: "nicolò@città.example.it", Subject: "L'accesso alla pratica «Università» scade il 31/12/2026",
			Body: "Perché è già così: " + strings.Repeat("lunga riga ", 40) + "\n= segno e spazi finali   \n"}},
		{"CRLF already", Message{To: "a@example.it", Subject: "s", Body: "a\r\nb\r\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.m.encode(from, now)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 998 {
					t.Errorf("line %d is %d bytes", i, len(line))
				}
			}
			if strings.Contains(strings.ReplaceAll(string(raw), "\r\n", ""), "\n") {
				t.Error("a bare LF in the message")
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			dec := new(mime.WordDecoder)
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subject != tt.m.Subject {
				t.Errorf("Subject %q (%v), want %q", subject, err, tt.m.Subject)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != tt.m.To {
				t.Errorf("To %v (%v), want %q", to, err, tt.m.To)
			}
			f, err := msg.Header.AddressList("From")
			if err != nil || len(f) != 1 || *f[0] != *from {
				t.Errorf("From %v (%v), want %v", f, err, from)
			}
			if d, err := msg.Header.Date(); err != nil || !d.Equal(now) {
				t.Errorf("Date %v (%v), want %v", d, err, now)
			}
			if id := msg.Header.Get("Message-ID"); !strings.HasSuffix(id, "@bassareggiana.it>") {
				t.Errorf("Message-ID %q", id)
			}
			if h := msg.Header.Get("Auto-Submitted"); h != "auto-generated" {
				t.Errorf("Auto-Submitted %q", h)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(strings.ReplaceAll(tt.m.Body, "\r\n", "\n"), "\n", "\r\n")
			if string(body) != want {
				t.Errorf("body\n%q\nwant\n%q", body, want)
			}
		})
	}
}
