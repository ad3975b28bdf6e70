package dwg

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"AC1009", "AutoCAD R11/R12 (AC1009)"},
		{"AC1012", "AutoCAD R13 (AC1012)"},
		{"AC1014", "AutoCAD R14 (AC1014)"},
		{"AC1015", "AutoCAD 2000-2002 (AC1015)"},
		{"AC1018", "AutoCAD 2004-2006 (AC1018)"},
		{"AC1021", "AutoCAD 2007-2009 (AC1021)"},
		{"AC1024", "AutoCAD 2010-2012 (AC1024)"},
		{"AC1027", "AutoCAD 2013-2017 (AC1027)"},
		{"AC1032", "AutoCAD 2018 o successivo (AC1032)"},
		{"AC1099", Unknown},
		{"", Unknown},
		{"ac1032", Unknown},
	} {
		if got := Describe(c.code); got != c.want {
			t.Errorf("Describe(%q) = %q, want %q", c.code, got, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		err            error
	}{
		{"2018", "AC1032\x00\x00\x00\x00\x00\x06\x01", "AC1032", nil},
		{"R14", "AC1014" + strings.Repeat("\x00", 100), "AC1014", nil},
		{"exactly six bytes", "AC1027", "AC1027", nil},
		{"short", "AC10", "", ErrShort},
		{"empty", "", "", ErrShort},
		{"binary", "\x89PNG\r\n\x1a\n", "", nil},
		{"a DXF renamed", "  0\nSECTION\n", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Version(context.Background(), strings.NewReader(c.in))
			if got != c.want || !errors.Is(err, c.err) {
				t.Errorf("Version(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
			}
		})
	}
}

func FuzzVersion(f *testing.F) {
	f.Add([]byte("AC1032rest"))
	f.Add([]byte("AC"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Version(context.Background(), strings.NewReader(string(b)))
		if err == nil && v != "" && (len(v) != HeaderSize || v != string(b[:HeaderSize])) {
			t.Fatalf("Version(%q) = %q", b, v)
		}
		Describe(v)
	})
}
