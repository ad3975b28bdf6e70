package web

import (
	"container/list"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/ranged"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/signature"
	"github.com/bassareggiana/faldone/signature/cms"
)

// A file page shows who signed a signed file and whether each signature
// holds, in words; the document inside an envelope is previewed and
// downloaded as the original file at /_/originale/<path of the .p7m>.
// An envelope up to readWholeBelow is read whole on the page, every
// verdict complete; a larger one shows its signers at once (their
// certificates and signatures checked, seeking past the document) and
// reads the document when asked ("Verifica l'integrità"), and the verdict
// is kept for the file as it is.

// readWholeBelow is the size up to which the page reads a signed file whole.
const readWholeBelow = 32 << 20

// signerRow is one signer, as the page says it.
type signerRow struct {
	Layer                                  int // 1: the outermost envelope
	Name, Fiscal, Issuer, Signed, Validity string
	Verdict                                string // "valida", "non-valida", "non-verificabile"
	Summary                                string
	Notes                                  []string
}

// signaturesPanel is the file page's section on signatures.
type signaturesPanel struct {
	Kind         string // "p7m" or "p7s"
	Error        string // why the signatures could not be read
	Signers      []signerRow
	Layers       int
	Checked      bool   // every document digested: integrity known
	CheckHref    string // the page that reads the whole file, when not Checked
	Document     string // the enclosed document's name
	DocumentHref string // its download
	InlineHref   string // its preview
	PDF, Image   bool   // how it previews
	DocSHA256    string
	DocSize      string
	Signed       string // a detached signature's file, beside it
	SignedHref   string
}

// signedKind says whether the file's name marks it as signed, or as a
// PDF that may hold signatures, and how.
func signedKind(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".p7m":
		return "p7m"
	case ".p7s":
		return "p7s"
	case ".pdf":
		return "pdf"
	}
	return ""
}

// reports keeps the complete verdicts of the files read whole, by path
// and content, so that a second look does not read them again.
type reports struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string keys, most recent first
	items map[string]*list.Element
	vals  map[string]*signature.Report
}

func newReports(max int) *reports {
	return &reports{max: max, order: list.New(), items: map[string]*list.Element{}, vals: map[string]*signature.Report{}}
}

func (c *reports) get(key string) *signature.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return c.vals[key]
	}
	return nil
}

func (c *reports) put(key string, r *signature.Report) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		c.vals[key] = r
		return
	}
	c.items[key] = c.order.PushFront(key)
	c.vals[key] = r
	for c.order.Len() > c.max {
		last := c.order.Back()
		k := last.Value.(string)
		c.order.Remove(last)
		delete(c.items, k)
		delete(c.vals, k)
	}
}

// signaturesOf reads the signatures of the signed file e at p; whole
// reads the file through even when it is large.
func (h *Handler) signaturesOf(r *http.Request, op *archive.Op, p string, e backends.Entry, whole bool) *signaturesPanel {
	kind := signedKind(e.Name())
	if kind == "" {
		return nil
	}
	panel := &signaturesPanel{Kind: kind}
	// A verdict is of the file as it is and of the roots as they are. A
	// detached signature's is also of the file beside it: not kept.
	key := p + "\x00" + e.ETag + "\x00" + h.cfg.Signatures.TrustVersion()
	var rep *signature.Report
	if kind != "p7s" {
		rep = h.verdicts.get(key)
	}
	var err error
	switch {
	case rep != nil:
	case kind == "p7s":
		rep, err = h.detached(op, p, panel)
	case kind == "pdf" && (whole || e.Size <= readWholeBelow):
		rep, err = h.cfg.Signatures.PDF(ranged.New(op, p, e.Size, e.ETag, ranged.Options{}), e.Size)
		if err == nil && len(rep.Layers) == 0 {
			h.verdicts.put(key, rep)
			return nil // an unsigned PDF: nothing to say
		}
	case kind == "pdf":
		// Its signatures are found only by reading it through.
		panel.CheckHref = "/_/scheda" + escapedPath(p) + "?verifica=1#firme"
		return panel
	case whole || e.Size <= readWholeBelow:
		rep, err = h.readEnvelope(op, p)
	default:
		rep, err = h.cfg.Signatures.Peek(ranged.New(op, p, e.Size, e.ETag, ranged.Options{}), e.Size)
	}
	if err != nil {
		switch {
		case errors.Is(err, signature.ErrNotSigned):
			panel.Error = "Il file non contiene una firma digitale leggibile: potrebbe essere danneggiato o incompleto."
		case errors.Is(err, errNoSignedFile):
			panel.Error = "Il file firmato non è nella stessa cartella: la firma separata (" + e.Name() + ") non si può verificare."
		default:
			h.cfg.Log.Error("signatures: file not read", "path", p, "err", err)
			panel.Error = "Non è stato possibile leggere il file per verificare le firme: riprova più tardi."
		}
		return panel
	}
	if kind == "pdf" && len(rep.Layers) == 0 {
		return nil
	}
	if rep.Read {
		if kind != "p7s" {
			h.verdicts.put(key, rep)
		}
		panel.Checked = true
		panel.DocSHA256 = hex.EncodeToString(rep.DocumentSHA256[:])
		panel.DocSize = sizeText(rep.DocumentSize)
	} else {
		panel.CheckHref = "/_/scheda" + escapedPath(p) + "?verifica=1#firme"
	}
	if len(rep.Signers()) == 0 && kind == "p7m" {
		panel.Error = "La busta non contiene alcuna firma: il documento all'interno si può aprire, ma non è firmato."
		panel.Checked = false
	}
	panel.Layers = len(rep.Layers)
	for i, l := range rep.Layers {
		if l.Err != nil {
			h.cfg.Log.Warn("signatures: a signature of a PDF not read", "path", p, "err", l.Err)
			panel.Signers = append(panel.Signers, signerRow{Layer: i + 1, Name: "Firma illeggibile", Verdict: "non-verificabile",
				Summary: "Firma non verificabile", Notes: []string{"La firma è danneggiata o di un tipo che non si può verificare qui."}})
			continue
		}
		for _, res := range l.Results {
			row := h.signerRowOf(i+1, res, rep.Read)
			if l.Partial {
				row.Notes = append(row.Notes, "Dopo questa firma il file ha ricevuto aggiunte (per esempio un'altra firma): la firma copre il documento com'era fino a quel momento.")
			}
			panel.Signers = append(panel.Signers, row)
		}
	}
	if kind == "p7m" {
		doc := signature.DocumentName(e.Name())
		panel.Document = doc
		panel.DocumentHref = "/_/originale" + escapedPath(p) + "?scarica=1"
		panel.InlineHref = "/_/originale" + escapedPath(p)
		ct := backends.ContentType(doc)
		panel.PDF = ct == "application/pdf"
		panel.Image = previewable(ct) && !panel.PDF
	}
	return panel
}

var errNoSignedFile = errors.New("the signed file is not beside its signature")

// detached verifies the .p7s at p over the file beside it.
func (h *Handler) detached(op *archive.Op, p string, panel *signaturesPanel) (*signature.Report, error) {
	target := strings.TrimSuffix(p, path.Ext(p))
	te, err := op.Info(target)
	if err != nil || te.IsDir {
		if err == nil || statusOfBackend(err) == http.StatusNotFound {
			return nil, errNoSignedFile
		}
		return nil, err
	}
	panel.Signed, panel.SignedHref = te.Name(), "/_/scheda"+escapedPath(target)
	sig, err := op.Open(p, nil)
	if err != nil {
		return nil, err
	}
	defer sig.Body.Close()
	content, err := op.Open(target, nil)
	if err != nil {
		return nil, err
	}
	defer content.Body.Close()
	return h.cfg.Signatures.Detached(sig.Body, content.Body)
}

// readEnvelope reads the envelope at p whole.
func (h *Handler) readEnvelope(op *archive.Op, p string) (*signature.Report, error) {
	obj, err := op.Open(p, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	return h.cfg.Signatures.Read(obj.Body, nil)
}

var (
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// personName is the signer's name as the certificate gives it: given
// name and surname, or else the common name.
func personName(c *x509.Certificate) string {
	var given, family string
	for _, n := range c.Subject.Names {
		v, _ := n.Value.(string)
		switch {
		case n.Type.Equal(oidGivenName):
			given = v
		case n.Type.Equal(oidSurname):
			family = v
		}
	}
	if given != "" || family != "" {
		return strings.TrimSpace(given + " " + family)
	}
	return c.Subject.CommonName
}

// fiscalNumber is the fiscal number of a qualified certificate's
// serialNumber ("TINIT-RSSMRA80A01H223Y"), or that field as it is.
func fiscalNumber(c *x509.Certificate) string {
	return strings.TrimPrefix(c.Subject.SerialNumber, "TINIT-")
}

func issuerName(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

// signerRowOf says a signer's verdict in words.
func (h *Handler) signerRowOf(layer int, res cms.Result, read bool) signerRow {
	row := signerRow{Layer: layer}
	if res.Cert == nil {
		row.Name = "Firmatario sconosciuto"
		row.Verdict, row.Summary = "non-verificabile", "Firma non verificabile"
		row.Notes = []string{"La busta non contiene il certificato del firmatario."}
		return row
	}
	c := res.Cert
	row.Name, row.Fiscal, row.Issuer = personName(c), fiscalNumber(c), issuerName(c)
	if !res.SigningTime.IsZero() {
		row.Signed = dateText(res.SigningTime, h.cfg.Location)
	}
	row.Validity = "dal " + dateText(c.NotBefore, h.cfg.Location) + " al " + dateText(c.NotAfter, h.cfg.Location)
	broken, unsure := false, false
	switch {
	case res.SignatureErr != nil:
		broken = true
		row.Notes = append(row.Notes, "La firma non corrisponde al certificato: la busta è stata alterata o è danneggiata.")
	case !res.CertBound:
		broken = true
		row.Notes = append(row.Notes, "Il certificato nella busta non è quello indicato dalla firma.")
	}
	switch res.Integrity {
	case cms.IntegrityMatch:
		row.Notes = append(row.Notes, "Il documento è integro: è identico a quello firmato.")
	case cms.IntegrityMismatch:
		broken = true
		row.Notes = append(row.Notes, "Il documento è stato modificato dopo la firma.")
	default:
		unsure = true
		if read {
			row.Notes = append(row.Notes, "La firma non indica l'impronta del documento: l'integrità non si può verificare.")
		} else {
			row.Notes = append(row.Notes, "L'integrità del documento non è ancora stata verificata.")
		}
	}
	switch res.Trust {
	case cms.TrustOK:
		row.Notes = append(row.Notes, "Il certificato è stato rilasciato da un certificatore riconosciuto ed era valido al momento della firma.")
	case cms.TrustNoStore:
		unsure = true
		row.Notes = append(row.Notes, "Non è configurato l'elenco dei certificatori riconosciuti: non si può verificare chi ha rilasciato il certificato.")
	case cms.TrustUnknownCA:
		unsure = true
		row.Notes = append(row.Notes, "Il certificato è stato rilasciato da un certificatore non riconosciuto ("+row.Issuer+").")
	case cms.TrustExpired:
		broken = true
		if res.SigningTime.IsZero() {
			row.Notes = append(row.Notes, "Il certificato non è valido oggi e la firma non indica quando è stata apposta.")
		} else {
			row.Notes = append(row.Notes, "Il certificato era scaduto, o non ancora valido, al momento della firma.")
		}
	default:
		unsure = true
		row.Notes = append(row.Notes, "La catena di certificazione del certificato non è valida.")
	}
	if res.SigningTime.IsZero() {
		row.Notes = append(row.Notes, "La firma non indica la data: il certificato è giudicato alla data di oggi.")
	}
	switch res.Revocation {
	case cms.RevocationGood:
		row.Notes = append(row.Notes, "Il certificato non risulta revocato nella lista di revoca (CRL) del certificatore.")
	case cms.RevocationRevoked:
		broken = true
		row.Notes = append(row.Notes, "Il certificato era stato revocato il "+dateText(res.RevokedAt, h.cfg.Location)+", prima della firma.")
	case cms.RevocationLater:
		row.Notes = append(row.Notes, "Il certificato è stato revocato il "+dateText(res.RevokedAt, h.cfg.Location)+", dopo la firma: la firma resta valida, il certificato non va più usato.")
	case cms.RevocationStale:
		unsure = true
		row.Notes = append(row.Notes, "La lista di revoca (CRL) del certificatore è scaduta: non si può dire se il certificato sia stato revocato di recente.")
	default:
		row.Notes = append(row.Notes, "Revoca del certificato non verificata: non è disponibile una lista di revoca (CRL) del certificatore, e OCSP non è usato.")
	}
	switch {
	case broken:
		row.Verdict, row.Summary = "non-valida", "Firma non valida"
	case unsure:
		row.Verdict, row.Summary = "non-verificabile", "Firma non verificata del tutto"
	default:
		row.Verdict, row.Summary = "valida", "Firma valida"
	}
	return row
}

// original serves the document a .p7m encloses, read from the envelope
// as it streams: inline for a PDF or an image (the file page previews
// it), as a download otherwise or when asked.
func (h *Handler) original(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/originale", false, h.fileNotFound)
	if !ok {
		return
	}
	e, ok := h.entryOf(w, r, op, p)
	if !ok {
		return
	}
	if e.IsDir || signedKind(e.Name()) != "p7m" {
		h.fileNotFound(w, r)
		return
	}
	obj, err := op.Open(p, nil)
	if err != nil {
		h.unavailable(w, r, "open signed file", err)
		return
	}
	defer obj.Body.Close()
	doc := signature.DocumentName(e.Name())
	ct := backends.ContentType(doc)
	hd := w.Header()
	hd.Set("Content-Type", ct)
	if ext := path.Ext(doc); ct == "application/octet-stream" && ext != "" {
		if t := mime.TypeByExtension(ext); t != "" {
			hd.Set("Content-Type", t)
		}
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "private, no-cache")
	// Whatever the envelope holds, it runs nothing in the service's origin.
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; object-src 'self'")
	if r.URL.Query().Get("scarica") != "" || !previewable(ct) {
		hd.Set("Content-Disposition", attachment(doc))
	} else {
		hd.Set("Content-Disposition", strings.Replace(attachment(doc), "attachment", "inline", 1))
	}
	out := &startedWriter{w: w}
	var sink io.Writer = out
	if r.Method == http.MethodHead {
		sink = io.Discard
	}
	// The page says whether the signatures hold; this only takes the
	// document out, as fast as the storage sends it.
	if err := signature.Extract(obj.Body, sink); err != nil {
		h.cfg.AuditTarget(r, sess.Person, "ORIGINAL", p, "", http.StatusUnprocessableEntity)
		if out.started {
			// Part of the document went out: cut the answer, so that no
			// client keeps a truncated file for a whole one.
			h.cfg.Log.Error("signed file: document cut short", "path", p, "err", err)
			panic(http.ErrAbortHandler)
		}
		for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Security-Policy"} {
			hd.Del(k)
		}
		if errors.Is(err, signature.ErrNotSigned) {
			h.message(w, r, http.StatusUnprocessableEntity, "Busta firmata non leggibile",
				"Il file non contiene una firma digitale leggibile: il documento originale non si può estrarre.")
			return
		}
		h.unavailable(w, r, "read signed file", err)
		return
	}
	h.cfg.AuditTarget(r, sess.Person, "ORIGINAL", p, "", http.StatusOK)
}

// startedWriter remembers whether anything was written.
type startedWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		s.started = true
	}
	return s.w.Write(p)
}
