// Package metrics holds the gateway's Prometheus metrics, in a registry of
// its own (no global state): requests, latency, bytes, storage calls,
// state-store latency, authentication failures, locks, uploads and the
// scheduled scrub.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the gateway's collectors.
type Metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	bytesIn         prometheus.Counter
	bytesOut        prometheus.Counter
	s3Calls         *prometheus.CounterVec
	s3Duration      *prometheus.HistogramVec
	storeDuration   *prometheus.HistogramVec
	authFailures    *prometheus.CounterVec
	uploadsInFlight prometheus.Gauge
	// The scrub's, by Comune: each replica counts what it read itself.
	scrubFiles, scrubBytes, scrubProblems *prometheus.CounterVec
	scrubPassEnd, scrubPassDuration       *prometheus.GaugeVec
}

// New makes the collectors. activeLocks, called at each scrape, counts the
// live locks.
func New(activeLocks func(ctx context.Context) (int, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_http_requests_total", Help: "HTTP requests by method and status.",
		}, []string{"method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faldone_http_request_duration_seconds", Help: "HTTP request latency by method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"method"}),
		bytesIn:  prometheus.NewCounter(prometheus.CounterOpts{Name: "faldone_http_bytes_received_total", Help: "Request body bytes received."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "faldone_http_bytes_sent_total", Help: "Response body bytes sent."}),
		s3Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_s3_requests_total", Help: "S3 operations by operation and outcome (ok or error).",
		}, []string{"operation", "outcome"}),
		s3Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faldone_s3_request_duration_seconds", Help: "S3 operation latency, retries included.",
			Buckets: prometheus.ExponentialBuckets(.001, 2.5, 12),
		}, []string{"operation"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faldone_state_store_duration_seconds", Help: "State-store query latency by operation.",
			Buckets: prometheus.ExponentialBuckets(.0001, 2.5, 12),
		}, []string{"operation"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_auth_failures_total", Help: "Failed authentications by method.",
		}, []string{"method"}),
		uploadsInFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "faldone_uploads_in_flight", Help: "PUT bodies being received."}),
		scrubFiles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_scrub_files_total", Help: "Files the scheduled scrub of this replica checked, by Comune.",
		}, []string{"comune"}),
		scrubBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_scrub_bytes_total", Help: "Bytes of the files the scheduled scrub of this replica checked, by Comune.",
		}, []string{"comune"}),
		scrubProblems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_scrub_problems_total", Help: "Files the scheduled scrub could not prove intact, by Comune and kind (changed, missing, unknown, unreadable).",
		}, []string{"comune", "kind"}),
		scrubPassEnd: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faldone_scrub_last_pass_end_timestamp_seconds", Help: "When this replica last finished scrubbing the Comune, in unix seconds.",
		}, []string{"comune"}),
		scrubPassDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faldone_scrub_last_pass_duration_seconds", Help: "How long this replica's last finished scrub of the Comune took.",
		}, []string{"comune"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.s3Calls, m.s3Duration, m.storeDuration,
		m.authFailures, m.uploadsInFlight,
		m.scrubFiles, m.scrubBytes, m.scrubProblems, m.scrubPassEnd, m.scrubPassDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faldone_active_locks", Help: "Live WebDAV locks."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := activeLocks(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one HTTP request.
func (m *Metrics) Request(method string, status int, d time.Duration, in, out int64) {
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
	if in > 0 {
		m.bytesIn.Add(float64(in))
	}
	m.bytesOut.Add(float64(out))
}

// S3 records one S3 operation.
func (m *Metrics) S3(operation string, err error, d time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
		if errors.Is(err, context.Canceled) {
			outcome = "canceled"
		}
	}
	m.s3Calls.WithLabelValues(operation, outcome).Inc()
	m.s3Duration.WithLabelValues(operation).Observe(d.Seconds())
}

// Store records one state-store operation.
func (m *Metrics) Store(operation string, d time.Duration) {
	m.storeDuration.WithLabelValues(operation).Observe(d.Seconds())
}

// AuthFailure records a failed authentication.
func (m *Metrics) AuthFailure(method string) { m.authFailures.WithLabelValues(method).Inc() }

// Upload tracks a PUT body: +1 when it starts, -1 when it ends.
func (m *Metrics) Upload(delta int) { m.uploadsInFlight.Add(float64(delta)) }

// ScrubComuni makes the scrub's counters of each Comune, and of each kind of
// problem, at zero: a series that first appears at 1 is no increase to
// Prometheus, and an alert on one would miss the first problem.
func (m *Metrics) ScrubComuni(comuni, kinds []string) {
	for _, c := range comuni {
		m.scrubFiles.WithLabelValues(c)
		m.scrubBytes.WithLabelValues(c)
		for _, k := range kinds {
			m.scrubProblems.WithLabelValues(c, k)
		}
	}
}

// ScrubFile records a file the scrub checked, of size bytes.
func (m *Metrics) ScrubFile(comune string, size int64) {
	m.scrubFiles.WithLabelValues(comune).Inc()
	m.scrubBytes.WithLabelValues(comune).Add(float64(size))
}

// ScrubProblem records a file the scrub could not prove intact.
func (m *Metrics) ScrubProblem(comune, kind string) {
	m.scrubProblems.WithLabelValues(comune, kind).Inc()
}

// ScrubPass records a scrub of a Comune that ended at end, after took.
func (m *Metrics) ScrubPass(comune string, end time.Time, took time.Duration) {
	m.scrubPassEnd.WithLabelValues(comune).Set(float64(end.UnixNano()) / 1e9)
	m.scrubPassDuration.WithLabelValues(comune).Set(took.Seconds())
}

// AuditBacklog reports, at each scrape, the bytes of audit records waiting
// in the spool for the state store: above zero for long, the store is not
// taking them.
func (m *Metrics) AuditBacklog(backlog func() int64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "faldone_audit_spool_bytes", Help: "Audit records in the spool, not yet in the state store.",
	}, func() float64 { return float64(backlog()) }))
}
