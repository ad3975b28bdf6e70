package days

import (
	"testing"
	"time"
)

func TestStartEndLast(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		day        string
		loc        *time.Location
		start, end string // RFC 3339, in UTC
	}{
		{"2027-03-31", rome, "2027-03-30T22:00:00Z", "2027-03-31T22:00:00Z"}, // summer time
		{"2026-12-31", rome, "2026-12-30T23:00:00Z", "2026-12-31T23:00:00Z"}, // winter time
		{"2027-03-28", rome, "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z"}, // 23 hours: clocks go forward
		{"2026-10-25", rome, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"}, // 25 hours: clocks go back
		{"2027-03-31", time.UTC, "2027-03-31T00:00:00Z", "2027-04-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.day+" "+tt.loc.String(), func(t *testing.T) {
			start, err := Start(tt.day, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			end, err := End(tt.day, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := start.UTC().Format(time.RFC3339); got != tt.start {
				t.Errorf("Start = %s, want %s", got, tt.start)
			}
			if got := end.UTC().Format(time.RFC3339); got != tt.end {
				t.Errorf("End = %s, want %s", got, tt.end)
			}
			// Back from the stored instant, in UTC as the stores give it.
			if got := Last(end.UTC(), tt.loc).Format(Layout); got != tt.day {
				t.Errorf("Last(End) = %s, want %s", got, tt.day)
			}
			if got := Last(end.UTC().Add(time.Second), tt.loc).Format(Layout); got == tt.day {
				t.Errorf("Last of a moment after the day's end is still %s", got)
			}
		})
	}
}

func TestBadDays(t *testing.T) {
	for _, s := range []string{"", "31/03/2027", "2027-02-30", "2027-3-1", "2027-03-31T00:00:00Z", "domani"} {
		if _, err := End(s, time.UTC); err == nil {
			t.Errorf("End(%q) accepted", s)
		}
		if _, err := Start(s, time.UTC); err == nil {
			t.Errorf("Start(%q) accepted", s)
		}
	}
}
