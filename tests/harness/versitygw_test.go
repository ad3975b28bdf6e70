package harness

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestS3Operation(t *testing.T) {
	tests := []struct {
		method, target string
		copySource     bool
		want           string
	}{
		{"GET", "/", false, "ListBuckets"},
		{"GET", "/b?list-type=2&prefix=a%2F&delimiter=%2F", false, "ListObjectsV2"},
		{"GET", "/b/?list-type=2", false, "ListObjectsV2"},
		{"GET", "/b?uploads", false, "ListMultipartUploads"},
		{"HEAD", "/b", false, "HeadBucket"},
		{"PUT", "/b", false, "CreateBucket"},
		{"POST", "/b?delete", false, "DeleteObjects"},
		{"GET", "/b/a/c.txt", false, "GetObject"},
		{"HEAD", "/b/a/c.txt", false, "HeadObject"},
		{"PUT", "/b/a/c.txt", false, "PutObject"},
		{"PUT", "/b/a/", false, "PutObject"},
		{"PUT", "/b/a/c.txt", true, "CopyObject"},
		{"POST", "/b/a/c.txt?uploads", false, "CreateMultipartUpload"},
		{"PUT", "/b/a/c.txt?partNumber=2&uploadId=x", false, "UploadPart"},
		{"PUT", "/b/a/c.txt?partNumber=2&uploadId=x", true, "UploadPartCopy"},
		{"POST", "/b/a/c.txt?uploadId=x", false, "CompleteMultipartUpload"},
		{"DELETE", "/b/a/c.txt?uploadId=x", false, "AbortMultipartUpload"},
		{"GET", "/b/a/c.txt?uploadId=x", false, "ListParts"},
		{"DELETE", "/b/a/c.txt", false, "DeleteObject"},
		{"PUT", "/b/a/c.txt?tagging", false, "PUT Object"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.copySource {
			r.Header.Set("X-Amz-Copy-Source", "b/x")
		}
		if got := s3Operation(r); got != tt.want {
			t.Errorf("%s %s (copy %t) = %q, want %q", tt.method, tt.target, tt.copySource, got, tt.want)
		}
	}
}

func TestS3Counter(t *testing.T) {
	srv := StartS3(t)
	srv.CreateBucket(t, "prova")
	c := srv.Counting(t)
	client := c.Client()
	ctx := t.Context()
	bucket, key := aws.String("prova"), aws.String("cartella/file con spazi+più.txt")

	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: strings.NewReader("ciao")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"PutObject": 1, "HeadObject": 1, "ListObjectsV2": 1}
	if got := c.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	// The object is a file in the bucket's folder.
	if b, err := os.ReadFile(filepath.Join(srv.Dir, "prova", "cartella", "file con spazi+più.txt")); err != nil || string(b) != "ciao" {
		t.Errorf("file on disk: %q, %v", b, err)
	}

	// A persistent fault meets every retry.
	c.Reset()
	c.FailAfter("HeadObject", 1, http.StatusInternalServerError)
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key}); err != nil {
		t.Errorf("first HeadObject after FailAfter(1): %v", err)
	}
	_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); !ok || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Errorf("second HeadObject: %v, want a 500", err)
	}
	c.Clear()
	if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: key}},
	}}); err != nil {
		t.Fatal(err)
	}
	// The SDK's standard retryer makes three attempts.
	want = map[string]int{"HeadObject": 4, "DeleteObjects": 1}
	if got := c.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}
