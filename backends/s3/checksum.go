package s3

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
)

// Every upload carries the SHA-256 of what it sends, which S3 computes
// again as the bytes arrive: when they differ, it refuses the request
// (BadDigest), so that bytes damaged between this process and the storage
// never become an object. Such a request is sent again (damagedRetry), and
// one that arrives damaged every time fails the upload as unavailable.
//
//   - A body smaller than the part size is one PutObject, with the checksum
//     of the whole object. S3 keeps it and gives it back (HeadObject with
//     ChecksumMode, GetObjectAttributes): it is the digest that the archive
//     records for the file, so the bucket holds it too, for any S3 tool to
//     check without Faldone.
//   - A multipart upload asks for SHA-256 in CreateMultipartUpload, sends
//     each part's checksum with its UploadPart, and lists them again, as S3
//     gave them back, in CompleteMultipartUpload. S3 keeps the checksum of
//     the parts' checksums ("…-N", type COMPOSITE): SHA-256 has no
//     whole-object form for a multipart upload.
//
// The WebDAV body reaches the transfer manager through a pipe, but the
// manager reads each part into memory before it sends it, so the SDK can
// read a part twice, and how the checksum travels depends on the
// connection alone:
//
//   - over HTTP, the SDK hashes the part first and sends the header
//     x-amz-checksum-sha256; that hash is also the payload hash that the
//     signature covers (x-amz-content-sha256), so it costs no more than the
//     signed payload did, and less than the SDK's default, CRC32 on top;
//   - over HTTPS, the SDK signs no payload and hashes as it sends: the body
//     goes aws-chunked (x-amz-content-sha256:
//     STREAMING-UNSIGNED-PAYLOAD-TRAILER, x-amz-trailer:
//     x-amz-checksum-sha256) with the checksum in a trailer after the
//     last chunk. Here the checksum is all that S3 checks the bytes by,
//     and SHA-256 costs more CPU than the CRC32 it replaces.
//
// Some S3-compatible servers refuse checksums, or trailers, and so every
// upload: Config.NoChecksums sends none, neither these nor the CRC32 that
// the SDK sends by default. Over HTTPS, TLS is then all that guards the
// bytes on the way.

// uploadChecksums makes the transfer manager send SHA-256 checksums, or
// none at all.
func uploadChecksums(o *transfermanager.Options, on bool) {
	if on {
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
		return
	}
	// Left as it is, the manager asks for CRC32.
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// damaged reports whether S3 refused a request because its body arrived
// other than it was sent: its checksum, or over HTTP its signed payload
// hash, did not match.
func damaged(err error) bool {
	return isCode(err, "BadDigest", "XAmzContentSHA256Mismatch")
}

// damagedRetry tells the SDK's retryer to send a damaged body again: the
// part is still in memory, with its checksum, and a second sending mostly
// arrives whole.
func damagedRetry(err error) aws.Ternary {
	if damaged(err) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}
