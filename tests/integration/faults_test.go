package integration

import (
	"net/http"
	"strings"
	"testing"
)

// TestLongNamesRefusedAlike: a name longer than 255 bytes, or a path longer
// than 1024, is refused at the edge with 400 and a log line, the same on S3
// and on disk, before any storage is asked; 255 bytes are stored on both.
func TestLongNamesRefusedAlike(t *testing.T) {
	g, _, counter := s3Gateway(t)
	long := strings.Repeat("n", 300)
	for _, comune := range []string{"guastalla", "luzzara"} {
		for _, tc := range []struct {
			method, path string
			headers      map[string]string
			want         int
		}{
			{"PUT", "/" + comune + "/" + strings.Repeat("n", 251) + ".pdf", nil, http.StatusCreated},
			{"PUT", "/" + comune + "/" + long + ".pdf", nil, http.StatusBadRequest},
			{"PUT", "/" + comune + "/" + strings.Repeat("è", 128), nil, http.StatusBadRequest}, // 256 bytes
			{"MKCOL", "/" + comune + "/" + long, nil, http.StatusBadRequest},
			{"GET", "/" + comune + "/" + long, nil, http.StatusBadRequest},
			{"PROPFIND", "/" + comune + "/" + long + "/", map[string]string{"Depth": "0"}, http.StatusBadRequest},
			{"PUT", "/" + comune + strings.Repeat("/"+strings.Repeat("d", 200), 6) + "/x.pdf", nil, http.StatusBadRequest}, // 1200-odd bytes
			{"COPY", "/" + comune + "/" + strings.Repeat("n", 251) + ".pdf",
				map[string]string{"Destination": g.URL + "/" + comune + "/" + long}, http.StatusBadRequest},
		} {
			counter.Reset()
			content := ""
			if tc.method == "PUT" {
				content = "contenuto"
			}
			code, body, _ := g.Status(tc.method, tc.path, tc.headers, content)
			if code != tc.want {
				t.Errorf("%s %.60s… on %s: %d, want %d", tc.method, tc.path, comune, code, tc.want)
			}
			if tc.want == http.StatusBadRequest {
				if comune == "guastalla" && len(counter.Counts()) != 0 {
					t.Errorf("%s %.60s…: refused after asking S3: %v", tc.method, tc.path, counter.Counts())
				}
				if strings.Contains(body, "bytes") || strings.Contains(body, "invalid path") {
					t.Errorf("%s: the body shows the error: %q", tc.method, body)
				}
			}
		}
	}
	if !strings.Contains(g.Log(), "more than 255") || !strings.Contains(g.Log(), "status=400") {
		t.Error("no log line says why the names were refused")
	}
}
