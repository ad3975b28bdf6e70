package register

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// field is one of the register's canonical columns, which are also the
// names a Mapping maps to.
type field int

const (
	fPath field = iota
	fComune
	fYear
	fType
	fNumber
	fSubject
	fApplicants
	fFiscalCodes
	fDesigner
	fAddress
	fLocality
	fRegister
	fSheet
	fParcel
	fSub
	fProtocol
	fProtocolDate
	fSubmitted
	fIssued
	fStatus
	fNotes
	fIdentifier
	fAggregationType
	fDossierKind
	fAdministration
	fOffice
	fResponsible
	fOpened
	fClosed
	nFields
)

// canonical is the name of each field, as Write heads its column.
func canonical() [nFields]string {
	return [nFields]string{
		fPath:            "percorso",
		fComune:          "comune",
		fYear:            "anno",
		fType:            "tipo",
		fNumber:          "numero",
		fSubject:         "oggetto",
		fApplicants:      "richiedenti",
		fFiscalCodes:     "codice_fiscale",
		fDesigner:        "progettista",
		fAddress:         "indirizzo",
		fLocality:        "localita",
		fRegister:        "catasto",
		fSheet:           "foglio",
		fParcel:          "mappale",
		fSub:             "subalterno",
		fProtocol:        "protocollo",
		fProtocolDate:    "data_protocollo",
		fSubmitted:       "data_presentazione",
		fIssued:          "data_rilascio",
		fStatus:          "stato",
		fNotes:           "note",
		fIdentifier:      "identificativo",
		fAggregationType: "tipo_aggregazione",
		fDossierKind:     "tipologia_fascicolo",
		fAdministration:  "amministrazione_titolare",
		fOffice:          "unita_organizzativa",
		fResponsible:     "responsabile",
		fOpened:          "data_apertura",
		fClosed:          "data_chiusura",
	}
}

// DefaultColumns returns the register's canonical columns, in the order
// Write writes them.
func DefaultColumns() []string {
	c := canonical()
	return c[:]
}

// Mapping maps the headers of a register's columns to the fields they
// hold, by the fields' canonical names (DefaultColumns): "Intestatario
// pratica" → "richiedenti". Headers are compared folded: case, accents,
// spaces, underscores, dots and other punctuation do not count. A
// configuration's Mapping adds to the built-in aliases, and wins over them.
type Mapping map[string]string

// aliases are the headers the Comuni's SUE programs and the scanning
// firm's exports are known to use, folded, besides the canonical names.
func aliases() map[string]field {
	return map[string]field{
		"path": fPath, "cartella": fPath, "percorsocartella": fPath, "posizione": fPath,
		"ente": fComune, "comunediriferimento": fComune,
		"year": fYear, "annopratica": fYear, "annofascicolo": fYear,
		"tipopratica": fType, "tipologia": fType, "tipologiapratica": fType, "tipoprocedimento": fType,
		"n": fNumber, "nr": fNumber, "num": fNumber, "npratica": fNumber, "nrpratica": fNumber,
		"numpratica": fNumber, "numeropratica": fNumber, "pratica": fNumber, "nfascicolo": fNumber,
		"numerofascicolo": fNumber,
		"descrizione":     fSubject, "oggettopratica": fSubject, "descrizioneintervento": fSubject,
		"intervento": fSubject, "oggettointervento": fSubject,
		"richiedente": fApplicants, "intestatario": fApplicants, "intestatari": fApplicants,
		"titolare": fApplicants, "titolari": fApplicants, "committente": fApplicants,
		"committenti": fApplicants, "richiedentenominativo": fApplicants,
		"cf": fFiscalCodes, "codicefiscale": fFiscalCodes, "codicifiscali": fFiscalCodes,
		"codfiscale": fFiscalCodes, "codfisc": fFiscalCodes, "cfrichiedente": fFiscalCodes,
		"cfrichiedenti": fFiscalCodes, "codicefiscalepiva": fFiscalCodes, "cfpiva": fFiscalCodes,
		"tecnico": fDesigner, "tecnicoprogettista": fDesigner, "professionista": fDesigner,
		"indirizzi": fAddress, "via": fAddress, "ubicazione": fAddress, "indirizzointervento": fAddress,
		"ubicazioneintervento": fAddress,
		"frazione":             fLocality, "localitafrazione": fLocality,
		"tipocatasto": fRegister,
		"fg":          fSheet, "fgl": fSheet, "fogli": fSheet,
		"mappali": fParcel, "map": fParcel, "mapp": fParcel, "particella": fParcel,
		"particelle": fParcel, "part": fParcel,
		"sub": fSub, "subalterni": fSub,
		"prot": fProtocol, "nprot": fProtocol, "nprotocollo": fProtocol, "numeroprotocollo": fProtocol,
		"protn":    fProtocol,
		"dataprot": fProtocolDate, "dataprotocollazione": fProtocolDate,
		"datadipresentazione": fSubmitted, "datadeposito": fSubmitted, "dataistanza": fSubmitted,
		"datarichiesta":  fSubmitted,
		"datadirilascio": fIssued, "datarilasciotitolo": fIssued,
		"statopratica": fStatus, "esito": fStatus,
		"nota": fNotes, "annotazioni": fNotes, "osservazioni": fNotes,
		"idaggregazione": fIdentifier, "idfascicolo": fIdentifier, "identificativofascicolo": fIdentifier,
		"amministrazione":                fAdministration,
		"unitaorganizzativaresponsabile": fOffice, "ufficio": fOffice, "uor": fOffice,
		"responsabileprocedimento": fResponsible, "responsabiledelprocedimento": fResponsible, "rup": fResponsible,
	}
}

// columnIndex returns the table of folded headers to fields: the canonical
// names, the built-in aliases and extra's.
func columnIndex(extra Mapping) (map[string]field, error) {
	idx := aliases()
	for f, name := range canonical() {
		idx[fold(name)] = field(f)
	}
	byName := map[string]field{}
	for f, name := range canonical() {
		byName[fold(name)] = field(f)
	}
	for header, name := range extra {
		f, ok := byName[fold(name)]
		if !ok {
			return nil, fmt.Errorf("register: the mapping of column %q names %q, which is none of the fields %s", header, name, strings.Join(DefaultColumns(), ", "))
		}
		if fold(header) == "" {
			return nil, fmt.Errorf("register: the mapping has a column with no name (%q) for %q", header, name)
		}
		idx[fold(header)] = f
	}
	return idx, nil
}

// fold is s as headers and Comuni's names are compared: lower case,
// without accents, of letters and digits only ("Località" and "LOCALITA'",
// "N. pratica" and "n_pratica" are alike).
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
