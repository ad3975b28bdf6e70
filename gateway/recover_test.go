package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/gateway/metrics"
)

// TestPanicAnswered500: a handler's panic becomes a 500 — a page for a
// browser, a plain status for a drive client — and a log line with the
// stack, and the client never sees the panic's text; once the answer has
// begun, the connection is cut instead, so the client cannot take a
// truncated answer for a whole one.
func TestPanicAnswered500(t *testing.T) {
	const secret = "valore interno /var/lib/faldone"
	page := func(w http.ResponseWriter, r *http.Request, status int) bool {
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			return false
		}
		w.WriteHeader(status)
		io.WriteString(w, "<h1>Errore del servizio</h1>")
		return true
	}
	for _, tt := range []struct {
		name     string
		accept   string
		begin    bool
		status   int
		body     string
		wantCut  bool
		panicked bool
	}{
		{name: "browser", accept: "text/html", status: 500, body: "Errore del servizio", panicked: true},
		{name: "drive client", accept: "*/*", status: 500, body: "Internal Server Error", panicked: true},
		{name: "answer begun", accept: "*/*", begin: true, wantCut: true, panicked: true},
		{name: "no panic", accept: "*/*", status: 200, body: "ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			h := accessLog(log, nil, newComunes(nil), metrics.New(func(context.Context) (int, error) { return 0, nil }), page,
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.begin {
						w.Write([]byte("parte"))
						w.(http.Flusher).Flush()
					}
					if tt.panicked {
						panic(secret)
					}
					io.WriteString(w, "ok")
				}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/guastalla/", nil)
			req.Header.Set("Accept", tt.accept)
			resp, err := http.DefaultClient.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if tt.wantCut {
				if err == nil {
					t.Fatalf("the answer begun before the panic arrived whole: %q", body)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
					t.Errorf("%d %q, want %d with %q", resp.StatusCode, body, tt.status, tt.body)
				}
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("the client was sent the panic's text: %q", body)
			}
			logged := strings.Contains(logs.String(), "panic while serving a request") && strings.Contains(logs.String(), "goroutine")
			if logged != tt.panicked {
				t.Errorf("panic logged with its stack: %v, want %v\n%s", logged, tt.panicked, logs.String())
			}
			if !strings.Contains(logs.String(), `"msg":"request"`) {
				t.Errorf("the request's own log line is missing:\n%s", logs.String())
			}
		})
	}
}
