package notify

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Site is what every message says of the service.
type Site struct {
	Service   string // "Archivio pratiche edilizie"
	Owner     string // "Unione dei Comuni della Bassa Reggiana"
	PublicURL string // where people open the service: "https://archivio.bassareggiana.it/"
	HelpText  string // where to ask for help, as the pages say it
	HelpEmail string
	HelpPhone string
}

// Dossier is the dossier of a grant: its path and, when the catalogue has
// its record, its number and subject.
type Dossier struct {
	Path    string
	Comune  string // the Comune's name
	Number  string
	Subject string
}

// Grant is a grant as its messages tell it.
type Grant struct {
	Dossier Dossier
	Write   bool
	// LastDay is the grant's last valid day, in the service's zone (see
	// gateway/days.Last).
	LastDay time.Time
	Reason  string // the protocol number of the request
	// Person is the grantee's fiscal number: the drive's user name.
	Person string
}

// Refusal is one refused request of a summary.
type Refusal struct {
	Time                         time.Time
	Person, Method, Path, Client string
}

// ComuneRefusals are the refusals of one Comune in a summary's period.
type ComuneRefusals struct {
	ID, Name string
	Refusals []Refusal // the first MaxSummaryLines, oldest first
	Count    int       // all of them
}

// Summary is a manager's summary of the refused requests of a period in
// the Comuni they manage.
type Summary struct {
	From, Until time.Time // the period, Until excluded
	Comuni      []ComuneRefusals
}

// MaxSummaryLines bounds the refusals a summary lists for one Comune; the
// access log has them all.
const MaxSummaryLines = 50

// dayFormat and timeFormat are how Italians write days and times.
const (
	dayFormat  = "02/01/2006"
	timeFormat = "02/01/2006 15:04"
)

// GrantMessage is the message to a technician granted a dossier: which,
// until when, how to sign in and how to map the drive.
func GrantMessage(site Site, to string, g Grant) Message {
	var b strings.Builder
	b.WriteString("Gentile tecnico,\n\n")
	fmt.Fprintf(&b, "ti è stato concesso l'accesso %s a una pratica edilizia del servizio «%s» (%s).\n\n", mode(g.Write), site.Service, site.Owner)
	dossierLines(&b, g)
	fmt.Fprintf(&b, "\nL'accesso è valido fino al %s compreso.\n\n", g.LastDay.Format(dayFormat))
	signInLines(&b, site, g)
	footer(&b, site)
	return Message{To: to, Subject: "Accesso alla pratica " + dossierName(g.Dossier) + " fino al " + g.LastDay.Format(dayFormat), Body: b.String()}
}

// ExpiryMessage warns a technician that a grant ends soon.
func ExpiryMessage(site Site, to string, g Grant, now time.Time) Message {
	var b strings.Builder
	b.WriteString("Gentile tecnico,\n\n")
	left := "scade il " + g.LastDay.Format(dayFormat)
	if n := daysBetween(now, g.LastDay); n == 0 {
		left = "scade oggi, " + g.LastDay.Format(dayFormat)
	} else if n == 1 {
		left = "scade domani, " + g.LastDay.Format(dayFormat)
	}
	fmt.Fprintf(&b, "il tuo accesso %s alla pratica edilizia qui sotto %s: dopo quel giorno la pratica non sarà più visibile, né dal browser né dall'unità di rete.\n\n", mode(g.Write), left)
	dossierLines(&b, g)
	b.WriteString("\nSe ti serve più tempo, chiedi una proroga all'ufficio del Comune che ha concesso l'accesso, citando il protocollo della richiesta.\n\n")
	signInLines(&b, site, g)
	footer(&b, site)
	return Message{To: to, Subject: "L'accesso alla pratica " + dossierName(g.Dossier) + " scade il " + g.LastDay.Format(dayFormat), Body: b.String()}
}

// SummaryMessage is a manager's summary of the requests refused in their
// Comuni; loc is the zone its times are written in.
func SummaryMessage(site Site, to string, s Summary, loc *time.Location) Message {
	total := 0
	var names []string
	for _, c := range s.Comuni {
		total += c.Count
		names = append(names, c.Name)
	}
	// A daily period is written to the minute; a shorter one, of a trial,
	// to the second.
	format := timeFormat
	if s.From.Second() != 0 || s.Until.Second() != 0 {
		format += ":05"
	}
	var b strings.Builder
	b.WriteString("Gentile responsabile,\n\n")
	fmt.Fprintf(&b, "ecco le richieste all'archivio rifiutate perché chi le ha fatte non aveva il permesso (403, accesso negato) dal %s al %s.\n",
		s.From.In(loc).Format(format), s.Until.In(loc).Format(format))
	for _, c := range s.Comuni {
		fmt.Fprintf(&b, "\n%s: %s\n", c.Name, plural(c.Count, "richiesta rifiutata", "richieste rifiutate"))
		for _, r := range c.Refusals {
			who := r.Person
			if who == "" {
				who = "(non autenticato)"
			}
			fmt.Fprintf(&b, "  %s  %s  %s %s", r.Time.In(loc).Format("02/01 15:04:05"), who, r.Method, r.Path)
			if r.Client != "" {
				fmt.Fprintf(&b, "  (da %s)", r.Client)
			}
			b.WriteString("\n")
		}
		if more := c.Count - len(c.Refusals); more == 1 {
			b.WriteString("  … e un'altra\n")
		} else if more > 1 {
			fmt.Fprintf(&b, "  … e altre %d\n", more)
		}
		fmt.Fprintf(&b, "  L'elenco completo è nel registro degli accessi; l'amministratore del servizio lo esporta con:\n  faldone audit --comune %s --since %s --until %s --excel\n", c.ID,
			s.From.In(loc).Format(time.RFC3339), s.Until.In(loc).Format(time.RFC3339))
	}
	b.WriteString("\nUn rifiuto isolato è di solito un errore (un collegamento vecchio, un accesso scaduto); molti rifiuti dalla stessa persona o dallo stesso indirizzo meritano un controllo.\n")
	footer(&b, site)
	subject := fmt.Sprintf("Richieste rifiutate nell'archivio: %d (%s) fino al %s", total, strings.Join(names, ", "), s.Until.In(loc).Format(format))
	return Message{To: to, Subject: subject, Body: b.String()}
}

// dossierLines describes the grant's dossier.
func dossierLines(b *strings.Builder, g Grant) {
	d := g.Dossier
	if d.Number != "" {
		fmt.Fprintf(b, "  Pratica:    %s\n", d.Number)
	}
	if d.Subject != "" {
		fmt.Fprintf(b, "  Oggetto:    %s\n", clip(d.Subject, 300))
	}
	if d.Comune != "" {
		fmt.Fprintf(b, "  Comune:     %s\n", d.Comune)
	}
	fmt.Fprintf(b, "  Percorso:   %s\n", d.Path)
	if g.Reason != "" {
		fmt.Fprintf(b, "  Protocollo: %s\n", g.Reason)
	}
	fmt.Fprintf(b, "  Permessi:   %s\n", mode(g.Write))
	fmt.Fprintf(b, "  Fino al:    %s compreso\n", g.LastDay.Format(dayFormat))
}

// signInLines say how to open the dossier: in a browser with SPID, or as
// a network drive with an app password.
func signInLines(b *strings.Builder, site Site, g Grant) {
	url := strings.TrimRight(site.PublicURL, "/") + "/"
	b.WriteString("Come aprire la pratica\n\n")
	fmt.Fprintf(b, "Dal browser: apri %s e scegli «Entra con SPID» (o «Entra con CIE»). Nella tua area personale la pratica è tra le «Pratiche a cui hai accesso».\n\n", url)
	b.WriteString("Come unità di rete (Esplora file di Windows, Finder del Mac, Linux), per aprire i file direttamente dai programmi di disegno e d'ufficio: ")
	b.WriteString("nell'area personale crea una «password per applicazioni» per il tuo computer, poi collega l'unità all'indirizzo ")
	fmt.Fprintf(b, "%s con il tuo codice fiscale", url)
	if g.Person != "" {
		fmt.Fprintf(b, " (%s)", g.Person)
	}
	b.WriteString(" come nome utente e quella password; la pagina della password ti mostra i passi per ogni sistema.\n")
	b.WriteString("La password per applicazioni non è quella di SPID: non usare mai quella di SPID per l'unità di rete.\n")
}

// footer ends every message: who sent it, and where to ask.
func footer(b *strings.Builder, site Site) {
	b.WriteString("\n-- \n")
	fmt.Fprintf(b, "%s — %s\n", site.Service, site.Owner)
	fmt.Fprintf(b, "%s\n", strings.TrimRight(site.PublicURL, "/")+"/")
	var help []string
	if site.HelpText != "" {
		help = append(help, site.HelpText)
	}
	if site.HelpEmail != "" {
		help = append(help, site.HelpEmail)
	}
	if site.HelpPhone != "" {
		help = append(help, "tel. "+site.HelpPhone)
	}
	if len(help) > 0 {
		fmt.Fprintf(b, "Assistenza: %s\n", strings.Join(help, " · "))
	}
	b.WriteString("Questo messaggio è inviato automaticamente: non rispondere a questo indirizzo.\n")
}

// dossierName is how a subject names the dossier: its number, and the
// Comune, or else its path.
func dossierName(d Dossier) string {
	if d.Number == "" {
		return d.Path
	}
	if d.Comune != "" {
		return d.Number + " (" + d.Comune + ")"
	}
	return d.Number
}

func mode(write bool) string {
	if write {
		return "in lettura e scrittura"
	}
	return "in sola lettura"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// daysBetween counts the calendar days from now's day to day, both in
// day's zone; negative when day is past.
func daysBetween(now, day time.Time) int {
	loc := day.Location()
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	return int(d.Sub(today).Hours() / 24)
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
