package notices

import (
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

func TestPeriod(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, rome) }
	for _, tt := range []struct {
		name        string
		hour        int
		interval    time.Duration
		now         time.Time
		from, until time.Time
	}{
		{"after the hour", 7, 0, at(2026, 12, 6, 9, 0), at(2026, 12, 5, 7, 0), at(2026, 12, 6, 7, 0)},
		{"before the hour", 7, 0, at(2026, 12, 6, 6, 0), at(2026, 12, 4, 7, 0), at(2026, 12, 5, 7, 0)},
		{"at the hour, still settling", 7, 0, at(2026, 12, 6, 7, 0).Add(30 * time.Second), at(2026, 12, 4, 7, 0), at(2026, 12, 5, 7, 0)},
		{"a minute after the hour", 7, 0, at(2026, 12, 6, 7, 1), at(2026, 12, 5, 7, 0), at(2026, 12, 6, 7, 0)},
		{"midnight", 0, 0, at(2026, 12, 6, 0, 5), at(2026, 12, 5, 0, 0), at(2026, 12, 6, 0, 0)},
		{"the day clocks go forward: 23 hours", 7, 0, at(2027, 3, 28, 8, 0), at(2027, 3, 27, 7, 0), at(2027, 3, 28, 7, 0)},
		{"the day clocks go back: 25 hours", 7, 0, at(2026, 10, 25, 8, 0), at(2026, 10, 24, 7, 0), at(2026, 10, 25, 7, 0)},
		{"every 10 seconds", 7, 10 * time.Second, time.Unix(1_800_000_013, 0), time.Unix(1_800_000_000, 0), time.Unix(1_800_000_010, 0)},
		{"every 10 seconds, settling", 7, 10 * time.Second, time.Unix(1_800_000_001, 0), time.Unix(1_799_999_980, 0), time.Unix(1_799_999_990, 0)},
		{"every hour", 7, time.Hour, time.Unix(3600*500_000+120, 0), time.Unix(3600*499_999, 0), time.Unix(3600*500_000, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := New(nil, nil, Options{Location: rome, SummaryHour: tt.hour, SummaryInterval: tt.interval})
			from, until := n.Period(tt.now)
			if !from.Equal(tt.from) || !until.Equal(tt.until) {
				t.Errorf("Period(%v) = %v – %v, want %v – %v", tt.now, from, until, tt.from, tt.until)
			}
		})
	}
}

func TestWarningDue(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	// Valid through the 31st in Rome: it ends at midnight between the 31st and the 1st.
	g := state.Grant{ID: "g-1", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, rome)}
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, rome) }
	for _, tt := range []struct {
		name string
		days int
		now  time.Time
		want bool
	}{
		{"four days before the last day", 3, at(27, 23), false},
		{"three days before the last day", 3, at(28, 0), true},
		{"the last day", 3, at(31, 23), true},
		{"after the end", 3, time.Date(2027, 1, 1, 0, 0, 0, 0, rome), false},
		{"one day: the day before", 1, at(30, 0), true},
		{"one day: two days before", 1, at(29, 23), false},
		{"no warnings", 0, at(31, 12), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := New(nil, nil, Options{Location: rome, WarningDays: tt.days})
			if got := n.warningDue(g, tt.now); got != tt.want {
				t.Errorf("warningDue at %v with %d days = %v, want %v", tt.now, tt.days, got, tt.want)
			}
		})
	}
}
