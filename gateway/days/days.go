// Package days holds the one rule by which the days people write ("until
// 2027-03-31") become moments, and moments become days again, in the
// configured time zone: the pages, the grant form and the command line all
// use it, so that a grant ends at the same instant however it was made.
package days

import (
	"fmt"
	"time"
)

// Layout is the way days are written on the command line and in HTML date
// inputs.
const Layout = "2006-01-02"

// Start returns the first moment of day s (YYYY-MM-DD) in loc.
func Start(s string, loc *time.Location) (time.Time, error) {
	d, err := time.ParseInLocation(Layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: use YYYY-MM-DD", s)
	}
	return d, nil
}

// End returns the first moment after day s in loc: something valid "until
// 2027-03-31" is valid while the time is before End("2027-03-31"), midnight
// between the 31st and the 1st in that zone. It is the next day's midnight,
// not 24 hours later, which differs on the days clocks change.
func End(s string, loc *time.Location) (time.Time, error) {
	d, err := Start(s, loc)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1), nil
}

// Last returns the last day of something valid until the moment end
// (excluded), in loc: the day End takes back to end.
func Last(end time.Time, loc *time.Location) time.Time {
	t := end.Add(-time.Nanosecond).In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
