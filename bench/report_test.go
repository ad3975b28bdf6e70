//go:build bench

package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// sample is one measurement of one piece of work by one subject.
type sample struct {
	dur  time.Duration
	n    float64        // bytes or files, for a rate; 0 for a time
	ops  int            // operations of a work measured per operation (files, saves); 0 otherwise
	reqs map[string]int // S3 requests by operation, counted on the wire
	// CPU time meanwhile of the server process (0 for direct S3), of
	// versitygw, and of the benchmark's process (client and S3 proxies).
	cpu, cpuS3, cpuBench time.Duration
	busy                 float64 // share of the machine's cores that were busy
	// Memory of the server process for a big transfer, in bytes: its peak
	// RSS over its life; its RSS before its first request and before the
	// transfer, and its peak during the transfer.
	rss, rssIdle, rssBefore, rssDuring int64
	size                               int64 // bytes of a PROPFIND's response
}

// The subjects, in the order of the table's columns.
const (
	faldone = "Faldone"
	rclone  = "rclone"
	direct  = "direct S3"
)

var subjects = []string{faldone, rclone, direct}

// unit says how a work is measured, and which way is better.
type unit int

const (
	seconds  unit = iota // time of the work: less is better
	mbPerSec             // bytes per second, in MB: more is better
	filesPerSec
	secondsEach // time of each of the work's operations: less is better
)

func (u unit) value(s sample) float64 {
	switch u {
	case seconds:
		return s.dur.Seconds()
	case secondsEach:
		return s.dur.Seconds() / float64(max(s.ops, 1))
	}
	return s.n / s.dur.Seconds()
}

func (u unit) format(v float64) string {
	switch u {
	case mbPerSec:
		return fmt.Sprintf("%.0f MB/s", v/1e6)
	case filesPerSec:
		return fmt.Sprintf("%.0f files/s", v)
	}
	return fmt.Sprintf("%.3f s", v)
}

// target is Faldone's budget for a work (DESIGN.md, section 7).
type target int

const (
	noTarget      target = iota
	nearDirect           // time within 1.1× of direct S3
	mostOfDirect         // throughput at least 90 % of direct S3
	beatRclone           // throughput above rclone's
	bigWrites            // throughput above rclone's and at least 85 % of direct S3
	parallelReads        // throughput at least 80 % of direct S3
	smallWrites          // at least 1.2× rclone's files per second, at most 2 requests a file
	saveSequence         // at most 1.15× direct S3's time, at most 12 requests a save
	keepCopy             // the recycle bin on an unversioned bucket: at most one server-side copy a file
	noCopy               // the recycle bin on a versioned bucket: no copy at all
)

const rssBudget = 128 << 20

// work is one row of the table.
type work struct {
	name   string
	unit   unit
	target target
	// per names the operation that a work of several counts its requests
	// by ("file", "save"); "" shows the requests of the whole work.
	per string
}

// requests is what the table shows of a run's S3 requests: all of them, or
// those of one operation.
func (w work) requests(s sample) string {
	if w.per == "" || s.ops == 0 {
		return fmt.Sprintf("%d req", total(s.reqs))
	}
	return fmt.Sprintf("%.1f req/%s", perOp(s), w.per)
}

// perOp is the S3 requests of one of a run's operations.
func perOp(s sample) float64 { return float64(total(s.reqs)) / float64(max(s.ops, 1)) }

// results collects the samples of every work, in the order of first use.
type results struct {
	works   []work
	samples map[string]map[string][]sample // work → subject → runs
}

func newResults() *results {
	return &results{samples: map[string]map[string][]sample{}}
}

func (r *results) add(w work, subject string, s sample) {
	if r.samples[w.name] == nil {
		r.works = append(r.works, w)
		r.samples[w.name] = map[string][]sample{}
	}
	r.samples[w.name][subject] = append(r.samples[w.name][subject], s)
}

// summary is what the table shows of the runs of one work by one subject.
type summary struct {
	value  float64 // median, in the work's unit
	median sample  // the run that gave the median
	maxRSS int64   // the highest peak over the runs
}

// summarize takes the median run by the work's measure: with an even
// number of runs, the lower middle one.
func summarize(u unit, runs []sample) (summary, bool) {
	if len(runs) == 0 {
		return summary{}, false
	}
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b sample) int {
		va, vb := u.value(a), u.value(b)
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	m := sorted[(len(sorted)-1)/2]
	s := summary{value: u.value(m), median: m}
	for _, x := range runs {
		s.maxRSS = max(s.maxRSS, x.rss)
	}
	return s, true
}

func total(reqs map[string]int) int {
	n := 0
	for _, v := range reqs {
		n += v
	}
	return n
}

// copies counts a run's server-side copies.
func copies(s sample) int { return s.reqs["CopyObject"] + s.reqs["UploadPartCopy"] }

// ratio is a's figure divided by b's, as a factor.
func ratio(a, b summary, okA, okB bool) string {
	if !okA || !okB || b.value == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a.value/b.value)
}

// verdict says whether Faldone met its budget, with the figure that tells.
func verdict(w work, s map[string]summary) string {
	f, okF := s[faldone]
	d, okD := s[direct]
	rc, okR := s[rclone]
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	switch {
	case w.target == nearDirect && okF && okD:
		x := f.value / d.value
		return fmt.Sprintf("≤ 1.1× direct: %s (%.2f×)", met(x <= 1.1), x)
	case w.target == mostOfDirect && okF && okD:
		x := f.value / d.value
		return fmt.Sprintf("≥ 90 %% of direct: %s (%.0f %%)", met(x >= 0.9), 100*x)
	case w.target == beatRclone && okF && okR:
		x := f.value / rc.value
		return fmt.Sprintf("faster than rclone: %s (%.2f×)", met(x > 1), x)
	case w.target == bigWrites && okF && okR && okD:
		x, y := f.value/rc.value, f.value/d.value
		return fmt.Sprintf("faster than rclone, ≥ 85 %% of direct: %s (%.2f×, %.0f %%)", met(x > 1 && y >= 0.85), x, 100*y)
	case w.target == parallelReads && okF && okD:
		x := f.value / d.value
		return fmt.Sprintf("≥ 80 %% of direct: %s (%.0f %%)", met(x >= 0.8), 100*x)
	case w.target == smallWrites && okF && okR:
		x, n := f.value/rc.value, perOp(f.median)
		return fmt.Sprintf("≥ 1.2× rclone, ≤ 2 req/file: %s (%.2f×, %.1f)", met(x >= 1.2 && n <= 2), x, n)
	case w.target == keepCopy && okF:
		n := float64(copies(f.median)) / float64(max(f.median.ops, 1))
		if w.per == "" {
			return fmt.Sprintf("≤ 1 copy a file: %d copies", copies(f.median))
		}
		return fmt.Sprintf("≤ 1 copy a %s: %s (%.1f)", w.per, met(n <= 1), n)
	case w.target == noCopy && okF:
		return fmt.Sprintf("no copy: %s (%d)", met(copies(f.median) == 0), copies(f.median))
	case w.target == saveSequence && okF && okD:
		x, n := f.value/d.value, perOp(f.median)
		return fmt.Sprintf("≤ 1.15× direct, ≤ 12 req/save: %s (%.2f×, %.1f)", met(x <= 1.15 && n <= 12), x, n)
	}
	return ""
}

func mibs(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// print writes the table of medians, then the S3 requests by operation and
// the servers' CPU time that explain them.
func (r *results) print(out io.Writer, runs int) {
	fmt.Fprintf(out, "| Work (median of %d runs) | %s | %s | %s | Faldone ÷ direct | rclone ÷ direct | Faldone ÷ rclone | Faldone's budget |\n",
		runs, faldone, rclone, direct)
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, w := range r.works {
		sums, ok := map[string]summary{}, map[string]bool{}
		cells := []string{w.name}
		hasRSS := false
		for _, sub := range subjects {
			s, found := summarize(w.unit, r.samples[w.name][sub])
			ok[sub] = found
			if !found {
				cells = append(cells, "—")
				continue
			}
			sums[sub] = s // only the subjects measured have a verdict
			cells = append(cells, fmt.Sprintf("%s · %s", w.unit.format(s.value), w.requests(s.median)))
			hasRSS = hasRSS || s.maxRSS > 0
		}
		cells = append(cells,
			ratio(sums[faldone], sums[direct], ok[faldone], ok[direct]),
			ratio(sums[rclone], sums[direct], ok[rclone], ok[direct]),
			ratio(sums[faldone], sums[rclone], ok[faldone], ok[rclone]),
			verdict(w, sums))
		fmt.Fprintf(out, "| %s |\n", strings.Join(cells, " | "))
		if !hasRSS {
			continue
		}
		// Peak memory: the highest of the runs, each on a fresh process.
		cells = []string{w.name + ": peak RSS of the server"}
		for _, sub := range subjects {
			if s := sums[sub]; s.maxRSS > 0 {
				cells = append(cells, mibs(s.maxRSS))
			} else {
				cells = append(cells, "—")
			}
		}
		rssRatio := "—"
		if f, rc := sums[faldone].maxRSS, sums[rclone].maxRSS; f > 0 && rc > 0 {
			rssRatio = fmt.Sprintf("%.2f×", float64(f)/float64(rc))
		}
		budget := ""
		if f := sums[faldone].maxRSS; f > 0 {
			budget = fmt.Sprintf("< 128 MiB: %s", map[bool]string{true: "met", false: "**missed**"}[f < rssBudget])
		}
		cells = append(cells, "—", "—", rssRatio, budget)
		fmt.Fprintf(out, "| %s |\n", strings.Join(cells, " | "))
	}

	fmt.Fprintln(out)
	fmt.Fprintln(out, "| Work | Subject | all runs | S3 requests of the median run, by operation | CPU time: server · versitygw · benchmark (client, S3 proxies) | cores busy | PROPFIND response | RSS of the server: started → after a first request → peak of the transfer |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, w := range r.works {
		for _, sub := range subjects {
			s, found := summarize(w.unit, r.samples[w.name][sub])
			if !found {
				continue
			}
			m := s.median
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(m.reqs)) {
				ops = append(ops, fmt.Sprintf("%s %d", op, m.reqs[op]))
			}
			server, size, mem := "—", "—", "—"
			if sub != direct {
				server = fmt.Sprintf("%.2f", m.cpu.Seconds())
			}
			if m.size > 0 {
				size = fmt.Sprintf("%s bytes", thousands(int(m.size)))
			}
			if m.rssBefore > 0 {
				mem = mibs(m.rssIdle) + " → " + mibs(m.rssBefore) + " → " + mibs(m.rssDuring)
			}
			var all []string
			for _, x := range r.samples[w.name][sub] {
				all = append(all, strings.Fields(w.unit.format(w.unit.value(x)))[0])
			}
			fmt.Fprintf(out, "| %s | %s | %s | %s | %s · %.2f · %.2f s | %.0f %% | %s | %s |\n", w.name, sub,
				strings.Join(all, ", "), strings.Join(ops, ", "), server, m.cpuS3.Seconds(), m.cpuBench.Seconds(), 100*m.busy, size, mem)
		}
	}
}
