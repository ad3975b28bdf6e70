package extract

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// pecOf returns a PEC as providers send it: the provider's notice, in
// plain text and HTML, the original message enclosed as postacert.eml
// (quoted-printable Windows-1252 text, an HTML alternative, a PDF
// attachment), and the provider's daticert.xml.
func pecOf() string {
	original := strings.Join([]string{
		"From: Studio Tecnico Rossi <rossi@pec.example.it>",
		"To: protocollo@pec.comune.example.it",
		"Subject: =?UTF-8?Q?Integrazione_documentale_pratica_PC-2019-0042_=E2=80=93_perch=C3=A9?=",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="mix"`,
		"",
		"--mix",
		`Content-Type: multipart/alternative; boundary="alt"`,
		"",
		"--alt",
		"Content-Type: text/plain; charset=windows-1252",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"Si trasmette la relazione tecnica, perch=E9 richiesta dall'ufficio. Citt=E0=",
		" di Guastalla.",
		"--alt",
		"Content-Type: text/html; charset=utf-8",
		"",
		"<p>Si trasmette la relazione tecnica (versione HTML)</p>",
		"--alt--",
		"--mix",
		`Content-Type: application/pdf; name="relazione.pdf"`,
		`Content-Disposition: attachment; filename="relazione.pdf"`,
		"Content-Transfer-Encoding: base64",
		"",
		base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 ALLEGATONONLETTO")),
		"--mix--",
		"",
	}, "\r\n")
	return strings.Join([]string{
		"Return-Path: <posta-certificata@pec.example.it>",
		"Received: from mx.pec.example.it",
		"From: \"Per conto di: rossi@pec.example.it\" <posta-certificata@pec.example.it>",
		"Subject: POSTA CERTIFICATA: Integrazione documentale",
		"Date: Tue, 5 Mar 2019 10:00:00 +0100",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="pec"`,
		"",
		"--pec",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64",
		"",
		base64.StdEncoding.EncodeToString([]byte("Messaggio di posta certificata: il giorno 05/03/2019 è stato inviato")),
		"--pec",
		`Content-Type: message/rfc822; name="postacert.eml"`,
		`Content-Disposition: attachment; filename="postacert.eml"`,
		"",
		original,
		"--pec",
		`Content-Type: application/xml; name="daticert.xml"`,
		`Content-Disposition: attachment; filename="daticert.xml"`,
		"",
		"<postacert><intestazione>DATICERTNONLETTO</intestazione></postacert>",
		"--pec--",
		"",
	}, "\r\n")
}

func TestEML(t *testing.T) {
	x := newExtractor(t, Options{})
	for _, name := range []string{"pec.eml", "messaggio"} {
		s, err := x.Text(context.Background(), name, strings.NewReader(pecOf()))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"POSTA CERTIFICATA: Integrazione documentale",
			"Tue, 5 Mar 2019",
			"05/03/2019 è stato inviato",
			"Integrazione documentale pratica PC-2019-0042 – perché",
			"Studio Tecnico Rossi",
			"perché richiesta dall'ufficio. Città di Guastalla.",
		} {
			if !strings.Contains(s, w) {
				t.Errorf("%s: text lacks %q: %q", name, w, s)
			}
		}
		for _, w := range []string{"versione HTML", "ALLEGATONONLETTO", "DATICERTNONLETTO", "JVBER", "boundary"} {
			if strings.Contains(s, w) {
				t.Errorf("%s: text has %q: %q", name, w, s)
			}
		}
	}
}
