package s3

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/backends"
)

// wire is a proxy in front of the shared server, over HTTP or HTTPS as the
// backend's endpoint would be, that keeps the requests that write content
// as the backend sent them, and can damage their bodies on the way.
type wire struct {
	url string
	tls *http.Transport // trusts the proxy's certificate; nil over HTTP

	mu   sync.Mutex
	sent []sent
	// damage, when set, is asked about each PutObject and UploadPart:
	// true flips a bit of its body before it goes on.
	damage func(op string, part int) bool
}

// sent is one request as the backend sent it.
type sent struct {
	op     string // PutObject, UploadPart, CreateMultipartUpload, CompleteMultipartUpload
	part   int    // UploadPart's number
	header http.Header
	body   []byte
}

// damageAt is where a damaged body has its bit flipped: inside the content,
// past the size line that starts an aws-chunked body.
const damageAt = 100

func startWire(t *testing.T, https bool) *wire {
	t.Helper()
	target, err := url.Parse(server(t).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the one the client signed
		},
	}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		op, part := writeOp(r)
		if op == "" {
			proxy.ServeHTTP(rw, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.sent = append(w.sent, sent{op: op, part: part, header: r.Header.Clone(), body: body})
		hurt := w.damage != nil && (op == "PutObject" || op == "UploadPart") && w.damage(op, part)
		w.mu.Unlock()
		if hurt {
			body = bytes.Clone(body)
			body[damageAt] ^= 1
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(rw, r)
	})
	var srv *httptest.Server
	if https {
		srv = httptest.NewTLSServer(h)
		w.tls = srv.Client().Transport.(*http.Transport)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// writeOp names the requests that the proxy keeps; "" for the others.
func writeOp(r *http.Request) (op string, part int) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber") && r.Header.Get("X-Amz-Copy-Source") == "":
		part, _ = strconv.Atoi(q.Get("partNumber"))
		return "UploadPart", part
	case r.Method == http.MethodPut && !q.Has("partNumber") && r.Header.Get("X-Amz-Copy-Source") == "":
		return "PutObject", 0
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload", 0
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload", 0
	}
	return "", 0
}

// through points the backend at the proxy, trusting its certificate, and
// makes retries quick.
func (w *wire) through(cfg *Config) {
	cfg.Endpoint = w.url
	cfg.clientOptions = append(cfg.clientOptions, func(o *awss3.Options) {
		if w.tls != nil {
			o.HTTPClient = o.HTTPClient.(*awshttp.BuildableClient).WithTransportOptions(func(tr *http.Transport) {
				tr.TLSClientConfig = w.tls.TLSClientConfig.Clone()
			})
		}
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 10*time.Millisecond)
	})
}

// requests returns what the proxy kept, and forgets it.
func (w *wire) requests() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sent
	w.sent = nil
	return s
}

// count is how many of the requests are of op.
func count(reqs []sent, op string) int {
	n := 0
	for _, r := range reqs {
		if r.op == op {
			n++
		}
	}
	return n
}

func sha256Base64(p []byte) string {
	sum := sha256.Sum256(p)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unchunk decodes an aws-chunked body: the content and the trailers.
func unchunk(body []byte) (content []byte, trailers map[string]string, err error) {
	r := bufio.NewReader(bytes.NewReader(body))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, fmt.Errorf("chunk size: %w", err)
		}
		size, _, _ := strings.Cut(strings.TrimSuffix(line, "\r\n"), ";")
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("chunk size %q: %w", line, err)
		}
		if n == 0 {
			break
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(r, chunk); err != nil || !bytes.HasSuffix(chunk, []byte("\r\n")) {
			return nil, nil, fmt.Errorf("chunk of %d bytes: %v", n, err)
		}
		content = append(content, chunk[:n]...)
	}
	trailers = make(map[string]string)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, fmt.Errorf("trailer: %w", err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			return content, trailers, nil
		}
		k, v, _ := strings.Cut(line, ":")
		trailers[strings.ToLower(k)] = v
	}
}

// sentChecksum checks that a PutObject or UploadPart carried its content's
// SHA-256, as HTTPS or HTTP carry it, and returns the content.
func sentChecksum(t *testing.T, https bool, r sent) []byte {
	t.Helper()
	what := fmt.Sprintf("%s %d", r.op, r.part)
	if got := r.header.Get("X-Amz-Sdk-Checksum-Algorithm"); got != "SHA256" {
		t.Errorf("%s: x-amz-sdk-checksum-algorithm %q, want SHA256", what, got)
	}
	if !https {
		if got, want := r.header.Get("X-Amz-Checksum-Sha256"), sha256Base64(r.body); got != want {
			t.Errorf("%s: x-amz-checksum-sha256 %q, want %q", what, got, want)
		}
		return r.body
	}
	for h, want := range map[string]string{
		"Content-Encoding":     "aws-chunked",
		"X-Amz-Trailer":        "x-amz-checksum-sha256",
		"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %s %q, want %q", what, h, got, want)
		}
	}
	content, trailers, err := unchunk(r.body)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got, want := trailers["x-amz-checksum-sha256"], sha256Base64(content); got != want {
		t.Errorf("%s: trailer x-amz-checksum-sha256 %q, want %q", what, got, want)
	}
	return content
}

// storedChecksum is the checksum that S3 keeps for the file p.
func storedChecksum(t *testing.T, b *Backend, p string) (*string, types.ChecksumType) {
	t.Helper()
	out, err := server(t).Client().HeadObject(t.Context(), &awss3.HeadObjectInput{
		Bucket:       aws.String(testBucket),
		Key:          aws.String(b.key(p)),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.ChecksumSHA256, out.ChecksumType
}

var schemes = []struct {
	name  string
	https bool
}{{"HTTP", false}, {"HTTPS", true}}

// TestUploadChecksums uploads a file of one PutObject and one of three
// parts, over HTTP and HTTPS: each request carries the SHA-256 of its
// bytes, and S3 keeps the file's, or the parts'.
func TestUploadChecksums(t *testing.T) {
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			w := startWire(t, sc.https)
			b := newBackend(t, w.through)
			t.Run("PutObject", func(t *testing.T) {
				content := randomBytes(1000)
				put(t, b, "relazione.pdf", content)
				reqs := w.requests()
				if len(reqs) != 1 || reqs[0].op != "PutObject" {
					t.Fatalf("requests %v, want one PutObject", reqs)
				}
				if got := sentChecksum(t, sc.https, reqs[0]); !bytes.Equal(got, content) {
					t.Errorf("PutObject sent %d other bytes", len(got))
				}
				sum, kind := storedChecksum(t, b, "relazione.pdf")
				if want := sha256Base64(content); aws.ToString(sum) != want || kind != types.ChecksumTypeFullObject {
					t.Errorf("stored checksum %q (%s), want %q (FULL_OBJECT)", aws.ToString(sum), kind, want)
				}
			})
			t.Run("multipart", func(t *testing.T) {
				content := randomBytes(2*partSize + 1000)
				put(t, b, "tavola.dwg", content)
				reqs := w.requests()
				if count(reqs, "CreateMultipartUpload") != 1 || count(reqs, "UploadPart") != 3 || count(reqs, "CompleteMultipartUpload") != 1 {
					t.Fatalf("requests %v, want a multipart upload of 3 parts", reqs)
				}
				sums := make([]string, 3)
				var composite []byte
				for _, r := range reqs {
					switch r.op {
					case "CreateMultipartUpload":
						if got := r.header.Get("X-Amz-Checksum-Algorithm"); got != "SHA256" {
							t.Errorf("CreateMultipartUpload: x-amz-checksum-algorithm %q, want SHA256", got)
						}
					case "UploadPart":
						part := sentChecksum(t, sc.https, r)
						start := int64(r.part-1) * partSize
						if !bytes.Equal(part, content[start:min(start+partSize, int64(len(content)))]) {
							t.Errorf("part %d: other bytes", r.part)
						}
						sums[r.part-1] = sha256Base64(part)
					}
				}
				for _, r := range reqs {
					if r.op != "CompleteMultipartUpload" {
						continue
					}
					for i, sum := range sums {
						if !bytes.Contains(r.body, []byte("<ChecksumSHA256>"+sum+"</ChecksumSHA256>")) {
							t.Errorf("CompleteMultipartUpload does not list part %d's checksum:\n%s", i+1, r.body)
						}
					}
				}
				for _, sum := range sums {
					raw, _ := base64.StdEncoding.DecodeString(sum)
					composite = append(composite, raw...)
				}
				sum, kind := storedChecksum(t, b, "tavola.dwg")
				if want := sha256Base64(composite) + "-3"; aws.ToString(sum) != want || kind != types.ChecksumTypeComposite {
					t.Errorf("stored checksum %q (%s), want %q (COMPOSITE)", aws.ToString(sum), kind, want)
				}
				if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, content) {
					t.Errorf("read back %d other bytes", len(got))
				}
			})
		})
	}
}

// TestNoChecksums turns checksums off: no request of an upload or of a
// folder carries one, and S3 keeps no SHA-256.
func TestNoChecksums(t *testing.T) {
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			w := startWire(t, sc.https)
			b := newBackend(t, w.through, func(cfg *Config) { cfg.NoChecksums = true })
			if err := b.Mkdir(t.Context(), "pratica"); err != nil {
				t.Fatal(err)
			}
			small, large := randomBytes(1000), randomBytes(partSize+1000)
			put(t, b, "pratica/relazione.pdf", small)
			put(t, b, "pratica/tavola.dwg", large)
			reqs := w.requests()
			if len(reqs) != 6 {
				t.Errorf("%d requests, want 6: the marker and the two uploads", len(reqs))
			}
			for _, r := range reqs {
				for h := range r.header {
					if h := strings.ToLower(h); strings.HasPrefix(h, "x-amz-checksum") || h == "x-amz-sdk-checksum-algorithm" || h == "x-amz-trailer" {
						t.Errorf("%s %d sent %s", r.op, r.part, h)
					}
				}
			}
			for p, content := range map[string][]byte{"pratica/relazione.pdf": small, "pratica/tavola.dwg": large} {
				if sum, _ := storedChecksum(t, b, p); sum != nil {
					t.Errorf("%s: stored SHA-256 %q", p, *sum)
				}
				if got := read(t, b, p); !bytes.Equal(got, content) {
					t.Errorf("%s: read back %d other bytes", p, len(got))
				}
			}
		})
	}
}

// TestDamagedUpload flips a bit of a body on its way to S3, and leaves the
// checksum as the backend sent it: S3 refuses the request, which is sent
// again; damaged every time, the upload fails and the file keeps its old
// content. Over HTTP the signature covers the payload and finds the damage
// too; over HTTPS, without checksums, nothing does.
func TestDamagedUpload(t *testing.T) {
	tests := []struct {
		name        string
		https       bool
		noChecksums bool
		size        int
		op          string // the request damaged: PutObject, or the second UploadPart
		always      bool   // damaged at every attempt, or the first only
		// want is the error of the upload; nil: it succeeds.
		want     error
		mentions string
		attempts int // of the damaged request, retries included
		// stored is the content that S3 keeps: "new", "old" or "damaged".
		stored string
	}{
		{name: "HTTPS, PutObject, once", https: true, size: 1000, op: "PutObject",
			attempts: 2, stored: "new"},
		{name: "HTTPS, part, once", https: true, size: 2*partSize + 1000, op: "UploadPart",
			attempts: 2, stored: "new"},
		{name: "HTTPS, PutObject, always", https: true, size: 1000, op: "PutObject", always: true,
			want: backends.ErrUnavailable, mentions: "BadDigest", attempts: 3, stored: "old"},
		{name: "HTTPS, part, always", https: true, size: 2*partSize + 1000, op: "UploadPart", always: true,
			want: backends.ErrUnavailable, mentions: "BadDigest", attempts: 3, stored: "old"},
		{name: "HTTP, PutObject, always", size: 1000, op: "PutObject", always: true,
			want: backends.ErrUnavailable, mentions: "XAmzContentSHA256Mismatch", attempts: 3, stored: "old"},
		{name: "HTTP, part, always", size: 2*partSize + 1000, op: "UploadPart", always: true,
			want: backends.ErrUnavailable, mentions: "XAmzContentSHA256Mismatch", attempts: 3, stored: "old"},
		{name: "HTTPS without checksums, PutObject, once", https: true, noChecksums: true, size: 1000, op: "PutObject",
			attempts: 1, stored: "damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := startWire(t, tt.https)
			b := newBackend(t, w.through, func(cfg *Config) { cfg.NoChecksums = tt.noChecksums })
			old := []byte("versione 1")
			put(t, b, "tavola.dwg", old)
			w.requests()
			attempts := 0
			w.mu.Lock()
			w.damage = func(op string, part int) bool {
				if op != tt.op || op == "UploadPart" && part != 2 {
					return false
				}
				attempts++
				return tt.always || attempts == 1
			}
			w.mu.Unlock()
			content := randomBytes(tt.size)
			u, err := b.Create(t.Context(), "tavola.dwg", int64(len(content)), backends.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = u.Write(content)
			if err == nil {
				_, err = u.Commit(t.Context())
			} else {
				u.Abort(t.Context())
			}
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("upload: %v", err)
			case tt.want != nil && (!errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.mentions)):
				t.Errorf("upload: error %v, want %v mentioning %s", err, tt.want, tt.mentions)
			}
			w.mu.Lock()
			if attempts != tt.attempts {
				t.Errorf("%s sent %d times, want %d", tt.op, attempts, tt.attempts)
			}
			w.mu.Unlock()
			if got := multipartUploads(t, b); len(got) != 0 {
				t.Errorf("multipart uploads left: %v", got)
			}
			damagedContent := bytes.Clone(content)
			damagedContent[damageAt] ^= 1
			want := map[string][]byte{"new": content, "old": old, "damaged": damagedContent}[tt.stored]
			if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, want) {
				t.Errorf("stored %d bytes, not the %s content", len(got), tt.stored)
			}
		})
	}
}
