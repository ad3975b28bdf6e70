package s3

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

const listHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
	`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`

// listBodies are listings as servers send them, and odd ones: the scanner
// must read each exactly as the SDK does, or leave it to the SDK (fast
// false).
var listBodies = []struct {
	name, body string
	fast       bool
}{
	{"typical", listHead + `<Name>b</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>` +
		`<IsTruncated>true</IsTruncated><Contents><Key>p/a&amp;b &lt;c&gt; &#34;d&#34; &#xE8;.txt</Key>` +
		`<LastModified>2026-11-25T20:00:00.123Z</LastModified><ETag>&#34;0123abc&#34;</ETag><Size>256</Size>` +
		`<Owner><ID>x</ID><DisplayName>y</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>` +
		`<Contents><Key>p/è mü 漢字.pdf</Key><LastModified>2024-02-29T23:59:59Z</LastModified><ETag>"e-2"</ETag><Size>0</Size></Contents>` +
		`<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>p/x&apos;y/</Prefix></CommonPrefixes>` +
		`<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>`, true},
	{"indented", "<?xml version='1.0' encoding='utf-8'?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Name>b</Name>\n" +
		"  <Contents>\n    <Key>k</Key>\n    <Size>1</Size>\n    <LastModified>2026-01-31T01:02:03.004Z</LastModified>\n  </Contents>\n" +
		"  <IsTruncated>false</IsTruncated>\n</ListBucketResult>\n", true},
	{"empty", listHead + `<Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`, true},
	{"self-closing", listHead + `<Prefix/><Contents><Key/><ETag/></Contents><CommonPrefixes/></ListBucketResult>`, true},
	{"no declaration", `<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>`, true},
	{"lower case names", listHead + `<contents><key>k</key><size>5</size></contents><istruncated>true</istruncated></ListBucketResult>`, true},
	{"other time", listHead + `<Contents><Key>k</Key><LastModified>2026-11-25T20:00:00.5+01:00</LastModified></Contents></ListBucketResult>`, true},
	{"carriage return", listHead + "<Contents><Key>a\r\nb</Key></Contents></ListBucketResult>", false},
	{"cdata", listHead + `<Contents><Key><![CDATA[a<b]]></Key></Contents></ListBucketResult>`, false},
	{"comment", listHead + `<!-- x --><Contents><Key>k</Key></Contents></ListBucketResult>`, false},
	{"prefixed", `<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Contents><s3:Key>k</s3:Key></s3:Contents></s3:ListBucketResult>`, false},
	{"latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><ListBucketResult></ListBucketResult>`, false},
	{"bad size", listHead + `<Contents><Key>k</Key><Size>x</Size></Contents></ListBucketResult>`, false},
	{"empty size", listHead + `<Contents><Key>k</Key><Size></Size></Contents></ListBucketResult>`, false},
	{"bad time", listHead + `<Contents><Key>k</Key><LastModified>yesterday</LastModified></Contents></ListBucketResult>`, false},
	{"bad bool", listHead + `<IsTruncated>maybe</IsTruncated></ListBucketResult>`, false},
	{"unknown entity", listHead + `<Contents><Key>&eacute;</Key></Contents></ListBucketResult>`, false},
	{"control character", listHead + "<Contents><Key>a\x01b</Key></Contents></ListBucketResult>", false},
	{"invalid UTF-8", listHead + "<CommonPrefixes><Prefix>\xff</Prefix></CommonPrefixes><Contents><Key>a\xc3</Key></Contents></ListBucketResult>", false},
	{"control reference", listHead + "<Contents><Key>a&#1;b</Key></Contents></ListBucketResult>", false},
	{"mismatched tags", listHead + `<Contents><Key>k</Size></Contents></ListBucketResult>`, false},
	{"element in text", listHead + `<Contents><Key>a<b/>c</Key></Contents></ListBucketResult>`, false},
	{"truncated", listHead + `<Contents><Key>k</Key>`, false},
	{"other root", `<Error><Code>X</Code></Error>`, false},
}

// TestListScanner reads each body with the scanner and, through an HTTP
// server, with the SDK's decoder, and compares what a listing uses.
func TestListScanner(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	in := &awss3.ListObjectsV2Input{Bucket: aws.String("b")}
	for _, tt := range listBodies {
		t.Run(tt.name, func(t *testing.T) {
			body = tt.body
			_, fast := parseListV2([]byte(tt.body))
			if fast != tt.fast {
				t.Errorf("scanner read it: %v, want %v", fast, tt.fast)
			}
			want, werr := client.ListObjectsV2(t.Context(), in)
			var fallbacks atomic.Int64
			got, gerr := client.ListObjectsV2(t.Context(), in, fastList(&fallbacks))
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("SDK: %v; with the scanner: %v", werr, gerr)
			}
			if werr != nil {
				t.Logf("an error both ways: %v", werr)
				return
			}
			if fell := fallbacks.Load() != 0; fell == fast {
				t.Errorf("fell back to the SDK: %v, scanner read it: %v", fell, fast)
			}
			// ResultMetadata differs by request; what the listing uses must not.
			want.ResultMetadata, got.ResultMetadata = middleware.Metadata{}, middleware.Metadata{}
			if !reflect.DeepEqual(outputFields(want), outputFields(got)) {
				t.Errorf("scanner:\n%s\nSDK:\n%s", outputFields(got), outputFields(want))
			}
		})
	}
}

// outputFields prints the fields of a listing that the scanner fills.
func outputFields(o *awss3.ListObjectsV2Output) string {
	var b strings.Builder
	s := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *p)
	}
	fmt.Fprintf(&b, "name %s prefix %s delim %s token %s next %s start %s enc %q trunc %v keys %v max %v\n",
		s(o.Name), s(o.Prefix), s(o.Delimiter), s(o.ContinuationToken), s(o.NextContinuationToken), s(o.StartAfter),
		o.EncodingType, fmtPtr(o.IsTruncated), fmtPtr(o.KeyCount), fmtPtr(o.MaxKeys))
	for _, c := range o.Contents {
		lm := "nil"
		if c.LastModified != nil {
			lm = c.LastModified.String()
		}
		fmt.Fprintf(&b, "  object %s etag %s size %v modified %s class %q\n", s(c.Key), s(c.ETag), fmtPtr(c.Size), lm, c.StorageClass)
	}
	for _, cp := range o.CommonPrefixes {
		fmt.Fprintf(&b, "  prefix %s\n", s(cp.Prefix))
	}
	return b.String()
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// BenchmarkListScanner compares the scanner with the SDK's decoder on a
// page of 1,000 keys.
func BenchmarkListScanner(b *testing.B) {
	var page strings.Builder
	page.WriteString(listHead + `<Name>b</Name><Prefix>guastalla/list/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>`)
	for i := range 1000 {
		fmt.Fprintf(&page, `<Contents><Key>guastalla/list/PC-2019-%04d.pdf</Key><LastModified>2026-11-25T20:00:00.123Z</LastModified><ETag>&#34;0123456789abcdef0123456789abcdef&#34;</ETag><Size>256</Size><StorageClass>STANDARD</StorageClass></Contents>`, i)
	}
	page.WriteString(`<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>`)
	body := page.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	defer srv.Close()
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	in := &awss3.ListObjectsV2Input{Bucket: aws.String("b")}
	for _, bb := range []struct {
		name string
		opts []func(*awss3.Options)
	}{{"sdk", nil}, {"scanner", []func(*awss3.Options){fastList(new(atomic.Int64))}}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				out, err := client.ListObjectsV2(b.Context(), in, bb.opts...)
				if err != nil || len(out.Contents) != 1000 {
					b.Fatal(err)
				}
			}
		})
	}
}

// bodyClient answers every request with the listing body, without a
// network: the SDK's whole stack runs, its transport aside.
type bodyClient []byte

func (b bodyClient) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       r,
	}, nil
}

// FuzzListScanner checks the scanner against the SDK's decoder on any
// body: what the scanner reads, the SDK reads the same; and through the
// stack as the backend installs it, a listing is what the SDK alone makes
// of the body, or the same error.
func FuzzListScanner(f *testing.F) {
	for _, tt := range listBodies {
		f.Add([]byte(tt.body))
	}
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String("http://s3.test"), Region: "us-east-1", UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{},
	})
	in := &awss3.ListObjectsV2Input{Bucket: aws.String("b")}
	f.Fuzz(func(t *testing.T, body []byte) {
		scanned, fast := parseListV2(body)
		answer := func(o *awss3.Options) { o.HTTPClient = bodyClient(body) }
		want, werr := client.ListObjectsV2(t.Context(), in, answer)
		if fast {
			if werr != nil {
				t.Fatalf("the scanner read a body that the SDK refuses (%v):\n%q", werr, body)
			}
			if got, want := outputFields(scanned), outputFields(want); got != want {
				t.Fatalf("body %q\nscanner:\n%s\nSDK:\n%s", body, got, want)
			}
		}
		var fallbacks atomic.Int64
		got, gerr := client.ListObjectsV2(t.Context(), in, answer, fastList(&fallbacks))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("body %q: SDK: %v; with the scanner: %v", body, werr, gerr)
		}
		if werr != nil {
			return
		}
		if fell := fallbacks.Load() != 0; fell == fast {
			t.Errorf("body %q: fell back to the SDK: %v, scanner read it: %v", body, fell, fast)
		}
		if outputFields(got) != outputFields(want) {
			t.Fatalf("body %q\nwith the scanner:\n%s\nSDK:\n%s", body, outputFields(got), outputFields(want))
		}
	})
}
