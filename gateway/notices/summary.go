package notices

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/bassareggiana/faldone/notify"
	"github.com/bassareggiana/faldone/state"
)

// Period returns the last summary period over by now, [from, until):
// the day up to SummaryHour in the service's zone (a calendar day, 23 or
// 25 hours when the clocks change), or the last whole SummaryInterval
// since the Unix epoch. A period is over a settling time after its end,
// for the last refusals to travel from the replicas' audit spools to the
// store.
func (n *Notices) Period(now time.Time) (from, until time.Time) {
	if iv := n.o.SummaryInterval; iv > 0 {
		until = now.Add(-min(time.Minute, iv/4)).Truncate(iv)
		return until.Add(-iv), until
	}
	t := now.Add(-time.Minute).In(n.o.Location)
	until = time.Date(t.Year(), t.Month(), t.Day(), n.o.SummaryHour, 0, 0, 0, n.o.Location)
	if until.After(t) {
		until = until.AddDate(0, 0, -1)
	}
	return until.AddDate(0, 0, -1), until
}

// summary sends the managers their summary of the last period, when its
// messages are not all done: to each person with an address who manages
// a Comune where requests were refused (403) in the period, one message
// for all such Comuni.
func (n *Notices) summary(ctx context.Context, l *held) error {
	if n.o.SummaryDisabled || n.o.Manages == nil {
		return nil
	}
	from, until := n.Period(n.o.Now())
	period := until.UTC().Format(time.RFC3339)
	if done, err := n.periodDone(ctx, period); err != nil || done {
		return err
	}
	refused, err := n.refusals(ctx, from, until)
	if err != nil {
		return err
	}
	complete := true
	if len(refused) > 0 {
		people, err := n.st.PeopleWithEmail(ctx)
		if err != nil {
			return err
		}
		for _, p := range people {
			if !l.alive(ctx) {
				return ctx.Err()
			}
			manages, err := n.o.Manages(ctx, p.Key)
			if err != nil {
				return err
			}
			var mine []notify.ComuneRefusals
			for _, c := range refused {
				if slices.Contains(manages, c.ID) {
					mine = append(mine, c)
				}
			}
			if len(mine) == 0 {
				continue
			}
			key := period + " " + p.Key
			if due, err := n.due(ctx, KindSummary, key); err != nil || !due {
				if err != nil {
					return err
				}
				continue
			}
			log := n.o.Log.With("notice", KindSummary, "period_end", period, "person", p.Key)
			m := notify.SummaryMessage(n.o.Site, p.Email, notify.Summary{From: from, Until: until, Comuni: mine}, n.o.Location)
			if !n.claimAndSend(ctx, log, KindSummary, key, until.Add(summaryKeep), m) {
				complete = false // tried again at the next check, while attempts remain
			}
		}
	}
	if complete {
		return n.markPeriod(ctx, period, until)
	}
	return nil
}

// refusals are the requests refused with 403 in [from, until), by Comune
// in the configured order, Comuni without any left out.
func (n *Notices) refusals(ctx context.Context, from, until time.Time) ([]notify.ComuneRefusals, error) {
	var out []notify.ComuneRefusals
	for _, c := range n.o.Comuni {
		cr := notify.ComuneRefusals{ID: c.ID, Name: c.Name}
		err := n.st.Audit(ctx, state.AuditFilter{Comune: c.ID, Since: from, Until: until, Status: http.StatusForbidden}, func(r state.AuditRecord) error {
			cr.Count++
			if len(cr.Refusals) < notify.MaxSummaryLines {
				cr.Refusals = append(cr.Refusals, notify.Refusal{Time: r.Time, Person: r.Person, Method: r.Method, Path: r.Path, Client: r.Client})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if cr.Count > 0 {
			out = append(out, cr)
		}
	}
	return out, nil
}

// periodDone reports whether every message of the period is done.
func (n *Notices) periodDone(ctx context.Context, period string) (bool, error) {
	_, err := n.st.Notice(ctx, KindPeriod, period)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// markPeriod records that the period's messages are done.
func (n *Notices) markPeriod(ctx context.Context, period string, until time.Time) error {
	now := n.o.Now()
	ok, err := n.st.ClaimNotice(ctx, KindPeriod, period, 1, now, until.Add(summaryKeep))
	if err != nil || !ok {
		return err
	}
	if err := n.st.FinishNotice(ctx, KindPeriod, period, state.NoticeSent, now); err != nil {
		return err
	}
	n.o.Log.Log(ctx, slog.LevelDebug, "e-mail: summary period done", "period_end", period)
	return nil
}
