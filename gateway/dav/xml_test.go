package dav

import (
	"bytes"
	"encoding/xml"
	"testing"
)

func TestParsePropfind(t *testing.T) {
	tests := []struct {
		name string
		body string
		want propfind
		bad  bool
	}{
		{name: "empty body is allprop", body: "", want: propfind{allprop: true}},
		{name: "allprop", body: `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, want: propfind{allprop: true}},
		{name: "propname", body: `<propfind xmlns="DAV:"><propname/></propfind>`, want: propfind{propname: true}},
		{name: "prop", body: `<D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop><D:getetag/><Z:Win32FileAttributes/></D:prop></D:propfind>`,
			want: propfind{names: []xml.Name{{Space: "DAV:", Local: "getetag"}, {Space: "urn:schemas-microsoft-com:", Local: "Win32FileAttributes"}}}},
		{name: "unclosed", body: `<D:propfind xmlns:D="DAV:"><D:prop>`, bad: true},
		{name: "wrong root", body: `<D:lockinfo xmlns:D="DAV:"/>`, bad: true},
		{name: "no namespace", body: `<propfind><allprop/></propfind>`, bad: true},
		{name: "two kinds", body: `<D:propfind xmlns:D="DAV:"><D:allprop/><D:propname/></D:propfind>`, bad: true},
		{name: "nothing asked", body: `<D:propfind xmlns:D="DAV:"/>`, bad: true},
		{name: "empty prefix binding", body: `<D:propfind xmlns:D="DAV:"><D:prop><b:x xmlns:b=""/></D:prop></D:propfind>`, bad: true},
		{name: "trailing element", body: `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><x/>`, bad: true},
	}
	for _, tt := range tests {
		var body []byte
		if tt.body != "" {
			body = []byte(tt.body)
		}
		got, err := parsePropfind(body)
		if tt.bad {
			if err == nil {
				t.Errorf("%s: parsed %+v, want error", tt.name, got)
			}
			continue
		}
		if err != nil || got.allprop != tt.want.allprop || got.propname != tt.want.propname || len(got.names) != len(tt.want.names) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
			continue
		}
		for i := range got.names {
			if got.names[i] != tt.want.names[i] {
				t.Errorf("%s: name %d = %v, want %v", tt.name, i, got.names[i], tt.want.names[i])
			}
		}
	}
}

func TestParseProppatchKeepsValuesSelfContained(t *testing.T) {
	body := `<D:propertyupdate xmlns:D="DAV:" xmlns:t="http://example.com/t"><D:set><D:prop>` +
		`<t:note xml:lang="it">pratica <t:n>42</t:n> &amp; <x>tavola</x></t:note></D:prop></D:set>` +
		`<D:remove><D:prop><t:old/></D:prop></D:remove></D:propertyupdate>`
	patches, err := parseProppatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(patches) != 2 || patches[0].Remove || !patches[1].Remove {
		t.Fatalf("patches %+v", patches)
	}
	p := patches[0].Props[0]
	if p.Lang != "it" || p.XMLName.Local != "note" {
		t.Errorf("property %+v", p)
	}
	want := `pratica <n xmlns="http://example.com/t">42</n> &amp; <x xmlns="">tavola</x>`
	if string(p.InnerXML) != want {
		t.Errorf("value %s, want %s", p.InnerXML, want)
	}
	// The value must mean the same when written inside another namespace.
	doc := `<w xmlns="urn:other">` + string(p.InnerXML) + `</w>`
	d := xml.NewDecoder(bytes.NewReader([]byte(doc)))
	var spaces []string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if s, ok := tok.(xml.StartElement); ok {
			spaces = append(spaces, s.Name.Space)
		}
	}
	if len(spaces) != 3 || spaces[1] != "http://example.com/t" || spaces[2] != "" {
		t.Errorf("namespaces after re-embedding: %q", spaces)
	}
}

func TestParseLockInfo(t *testing.T) {
	tests := []struct {
		body   string
		shared bool
		bad    bool
	}{
		{body: `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>io</D:owner></D:lockinfo>`},
		{body: `<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype></lockinfo>`, shared: true},
		{body: `<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>`, bad: true},
		{body: `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>`, bad: true},
		{body: `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, bad: true},
	}
	for _, tt := range tests {
		li, err := parseLockInfo([]byte(tt.body))
		if tt.bad != (err != nil) || (!tt.bad && li.shared != tt.shared) {
			t.Errorf("parseLockInfo(%s) = %+v, %v", tt.body, li, err)
		}
	}
}

// FuzzXMLBodies feeds the same bytes to every request-body parser: none may
// panic, and a value the PROPPATCH parser accepts must be well-formed XML
// when embedded on its own.
func FuzzXMLBodies(f *testing.F) {
	for _, s := range []string{
		`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`,
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="u">a<b/>c</x></D:prop></D:set></D:propertyupdate>`,
		`<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>x</D:href></D:owner></D:lockinfo>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		parsePropfind(body)
		parseLockInfo(body)
		patches, err := parseProppatch(body)
		if err != nil {
			return
		}
		for _, pp := range patches {
			for _, p := range pp.Props {
				d := xml.NewDecoder(bytes.NewReader(append(append([]byte("<r>"), p.InnerXML...), "</r>"...)))
				for {
					_, err := d.Token()
					if err != nil {
						if err.Error() != "EOF" {
							t.Fatalf("value %q of %q is not well-formed: %v", p.InnerXML, body, err)
						}
						break
					}
				}
			}
		}
	})
}
