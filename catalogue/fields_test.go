package catalogue

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bassareggiana/faldone/state"
)

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  ", "", true},
		{"05/03/2019", "2019-03-05", true},
		{"5/3/2019", "2019-03-05", true},
		{"05-03-2019", "2019-03-05", true},
		{"05.03.2019", "2019-03-05", true},
		{"2019-03-05", "2019-03-05", true},
		{" 31/12/1899 ", "1899-12-31", true},
		{"29/02/2020", "2020-02-29", true},
		{"05/03/2019 00:00:00", "2019-03-05", true},
		{"05/03/2019 10:30", "2019-03-05", true},
		{"29/02/2019", "", false},
		{"31/02/2019", "", false},
		{"31/04/2019", "", false},
		{"29/02/1900", "", false},
		{"00/01/2019", "", false},
		{"01/13/2019", "", false},
		{"05/03/19", "", false},
		{"05/03-2019", "", false},
		{"2019/03/05", "", false},
		{"2019-3-5", "", false},
		{"05/03/1799", "", false},
		{"05/03/2101", "", false},
		{"43529", "", false}, // a spreadsheet's serial number
		{"5 marzo 2019", "", false},
		{"05/03/2019 dopo pranzo", "", false},
		{"aa/bb/cccc", "", false},
		{"+5/03/2019", "", false},
	} {
		got, err := ParseDate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Reason == "") {
			t.Errorf("ParseDate(%q): error %v is not a *FieldError with a reason", c.in, err)
		}
	}
}

func TestValidYear(t *testing.T) {
	for y, want := range map[int]bool{1799: false, 1800: true, 1975: true, 2100: true, 2101: false, 0: false, 19: false} {
		if ValidYear(y) != want {
			t.Errorf("ValidYear(%d) = %v", y, !want)
		}
	}
}

func TestValidParcelNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"21": true, "0345": true, "1": true, "123456789": true,
		"": false, "2a": false, "12/3": false, " 12": false, "-1": false, "1234567890": false, "٣": false,
	} {
		if ValidParcelNumber(s) != want {
			t.Errorf("ValidParcelNumber(%q) = %v", s, !want)
		}
	}
}

func TestValidFiscalCode(t *testing.T) {
	for s, want := range map[string]bool{
		"RSSMRA80A01E253Z": true,
		"RSSMRA80A01E2RPZ": true, // omocodia
		"01234567890":      true,
		"rssmra80a01e253z": false, // the import upper-cases first
		"RSSMRA80A01E253":  false,
		"RSSMRA8XA01E253Z": false,
		"R5SMRA80A01E253Z": false,
		"0123456789A":      false,
		"":                 false,
	} {
		if ValidFiscalCode(s) != want {
			t.Errorf("ValidFiscalCode(%q) = %v", s, !want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := state.Dossier{
		Path: "/guastalla/2019/PC-2019-0042", Year: 2019, ProtocolDate: "2019-03-05", Closed: "2020-01-10",
		Parcels:    []state.Parcel{{Register: "F", Sheet: "21", Number: "345", Sub: "3"}, {Sheet: "21"}},
		Applicants: []state.Applicant{{Name: "Nicolò Caffè", FiscalCode: "CFFNCL70B12E253K"}, {Name: "Edilizia Srl"}},
	}
	if errs := Validate(good); len(errs) != 0 {
		t.Fatalf("Validate(good) = %v", errs)
	}
	bad := good
	bad.Path = "/guastalla/2019/"
	bad.Year = 19
	bad.ProtocolDate = "05/03/2019"
	bad.Issued = "2019-02-31"
	bad.Parcels = []state.Parcel{{Register: "X", Sheet: "2a", Number: "345", Sub: "b"}}
	bad.Applicants = []state.Applicant{{Name: "Rossi", FiscalCode: "123"}}
	var fields []string
	for _, e := range Validate(bad) {
		fields = append(fields, e.Field)
		if e.Reason == "" {
			t.Errorf("%s: no reason", e.Field)
		}
	}
	want := []string{"Path", "Year", "ProtocolDate", "Issued", "Parcels[0].Register", "Parcels[0].Sheet", "Parcels[0].Sub", "Applicants[0].FiscalCode"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Validate(bad) fields = %q, want %q", fields, want)
	}
}
