package catalogue

// The rules a record's fields follow, which the catalogue's writers share,
// so that the register import and the pages' edit form accept and refuse
// the same values.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/state"
)

// FieldError is a field's value refused, and why, in English for operators
// and for the edit form's message next to the field.
type FieldError struct {
	Field  string // the record's field: "ProtocolDate", "Parcels[1].Sheet"; "" for a bare value
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%q: %s", e.Value, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// MinYear and MaxYear bound the years of a dossier and of its dates: the
// archive's oldest dossiers are of the 19th century, and a later year is a
// typing error (or a spreadsheet's serial number).
const (
	MinYear = 1800
	MaxYear = 2100
)

// ValidYear reports whether y is a plausible year of a dossier.
func ValidYear(y int) bool { return y >= MinYear && y <= MaxYear }

// ParseDate reads a date as the Comuni write it — gg/mm/aaaa, also with one
// digit for the day or month, and with "-" or "." for "/" — or as an ISO
// date (aaaa-mm-gg), and returns it as an ISO date; "" is "" (unknown).
// A time after the date, as spreadsheets add ("05/03/2019 00:00:00"), is
// dropped. Two-digit years are refused: "05/03/19" could be 1919. A date
// that does not exist (31/02/2019) is refused. The error is a *FieldError.
func ParseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	date, clock, hasClock := strings.Cut(s, " ")
	if hasClock && !isClock(strings.TrimSpace(clock)) {
		return "", &FieldError{Value: s, Reason: "not a date: write gg/mm/aaaa or aaaa-mm-gg"}
	}
	var d, m, y string
	if len(date) == 10 && date[4] == '-' && date[7] == '-' {
		y, m, d = date[:4], date[5:7], date[8:]
	} else {
		sep := strings.IndexAny(date, "/-.")
		if sep < 0 {
			return "", &FieldError{Value: s, Reason: "not a date: write gg/mm/aaaa or aaaa-mm-gg"}
		}
		parts := strings.Split(date, date[sep:sep+1])
		if len(parts) != 3 || len(parts[0]) > 2 || len(parts[1]) > 2 {
			return "", &FieldError{Value: s, Reason: "not a date: write gg/mm/aaaa or aaaa-mm-gg"}
		}
		d, m, y = parts[0], parts[1], parts[2]
		if len(y) != 4 {
			return "", &FieldError{Value: s, Reason: "the year must have four digits"}
		}
	}
	day, ok1 := digits(d)
	month, ok2 := digits(m)
	year, ok3 := digits(y)
	if !ok1 || !ok2 || !ok3 {
		return "", &FieldError{Value: s, Reason: "not a date: write gg/mm/aaaa or aaaa-mm-gg"}
	}
	if !ValidYear(year) {
		return "", &FieldError{Value: s, Reason: fmt.Sprintf("the year is not between %d and %d", MinYear, MaxYear)}
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return "", &FieldError{Value: s, Reason: "no such day"}
	}
	b := make([]byte, 0, 10)
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-', byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10))
	return string(b), nil
}

// digits is the value of a non-empty string of ASCII digits (at most 4).
func digits(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// isClock reports whether s is a time of day, hh:mm or hh:mm:ss.
func isClock(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if n, ok := digits(p); !ok || len(p) > 2 || n > 59 {
			return false
		}
	}
	return true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ValidParcelNumber reports whether s may be a foglio, mappale or
// subalterno: digits only, as the Agenzia delle Entrate's cadastre numbers
// them (a letter, as in "2a", is a typing error or an old local notation
// that the search could not match).
func ValidParcelNumber(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidFiscalCode reports whether s has the form of an Italian fiscal code:
// a person's sixteen characters (the digits' places also take the letters
// of omocodia) or a company's eleven digits (partita IVA). The check
// character is not verified: the registers hold codes as the applicants
// wrote them, and a wrong check character still finds the person.
func ValidFiscalCode(s string) bool {
	switch len(s) {
	case 11:
		for i := 0; i < 11; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	case 16:
		for i := 0; i < 16; i++ {
			c := s[i]
			letter := c >= 'A' && c <= 'Z'
			switch i {
			case 6, 7, 9, 10, 12, 13, 14: // digits, or their omocodia letters
				if !(c >= '0' && c <= '9') && !strings.ContainsRune("LMNPQRSTUV", rune(c)) {
					return false
				}
			default:
				if !letter {
					return false
				}
			}
		}
		return true
	}
	return false
}

// Validate returns what is wrong with d's fields: its path, year, dates
// (which must be ISO dates by now), cadastral references and fiscal codes.
// Fields with no rule (names, subject, notes) are not looked at.
func Validate(d state.Dossier) []FieldError {
	var errs []FieldError
	add := func(field, value, reason string) {
		errs = append(errs, FieldError{Field: field, Value: value, Reason: reason})
	}
	if !strings.HasPrefix(d.Path, "/") || len(d.Path) < 2 || strings.HasSuffix(d.Path, "/") {
		add("Path", d.Path, "not a folder's path: /comune/…, without a trailing slash")
	}
	if d.Year != 0 && !ValidYear(d.Year) {
		add("Year", strconv.Itoa(d.Year), fmt.Sprintf("not between %d and %d", MinYear, MaxYear))
	}
	for _, f := range []struct{ name, value string }{
		{"ProtocolDate", d.ProtocolDate}, {"Submitted", d.Submitted}, {"Issued", d.Issued},
		{"Opened", d.Opened}, {"Closed", d.Closed},
	} {
		if f.value == "" {
			continue
		}
		iso, err := ParseDate(f.value)
		if err != nil {
			add(f.name, f.value, err.(*FieldError).Reason)
		} else if iso != f.value {
			add(f.name, f.value, "not an ISO date (aaaa-mm-gg)")
		}
	}
	for i, p := range d.Parcels {
		if p.Register != "" && p.Register != "F" && p.Register != "T" {
			add(fmt.Sprintf("Parcels[%d].Register", i), p.Register, `neither "F" (fabbricati) nor "T" (terreni)`)
		}
		for _, f := range []struct{ name, value string }{{"Sheet", p.Sheet}, {"Number", p.Number}, {"Sub", p.Sub}} {
			if f.value != "" && !ValidParcelNumber(f.value) {
				add(fmt.Sprintf("Parcels[%d].%s", i, f.name), f.value, "digits only")
			}
		}
	}
	for i, a := range d.Applicants {
		if a.FiscalCode != "" && !ValidFiscalCode(a.FiscalCode) {
			add(fmt.Sprintf("Applicants[%d].FiscalCode", i), a.FiscalCode, "neither a fiscal code (16 characters) nor a VAT number (11 digits)")
		}
	}
	return errs
}
