// Package bench measures Faldone against `rclone serve webdav` and against
// direct S3 access, all three on one bucket of a real versitygw S3 server,
// and prints one Markdown table.
//
// It runs only on demand, behind the build tag "bench", so that `go test
// ./...` never starts it:
//
//	go test -tags bench ./bench -run TestBenchmark -v -timeout 60m
//
// README.md says what it measures and how.
package bench
