package s3

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A ghost is a folder that a delimited listing names though nothing
// current is under it: on a versioned bucket of a server that keeps a
// deleted file's delete marker where the file was, as a file system
// does (versitygw's posix backend), the folder of a deleted file stays
// as long as its versions do. AWS and MinIO list no such folder: a
// CommonPrefix there is a current key's. Left in, a ghost would be
// listed, opened as an empty folder and taken for something at the place
// where a restore brings the folder back.

// listsGhosts reports whether the server that answered a bucket's
// versioning, as its Server header names it, lists ghosts.
func listsGhosts(md middleware.Metadata) bool {
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	return ok && strings.HasPrefix(strings.ToUpper(resp.Header.Get("Server")), "VERSITYGW")
}

// dropGhosts removes from a delimited listing the folders that hold
// nothing current, where the bucket's server lists ghosts: one
// ListObjectsV2 of one key for each folder listed, 8 at once. Elsewhere
// it costs nothing.
func (b *Backend) dropGhosts(ctx context.Context, out *awss3.ListObjectsV2Output) error {
	if len(out.CommonPrefixes) == 0 {
		return nil
	}
	if _, _, err := b.learn(ctx); err != nil {
		return nil // the listing answered; the question of ghosts did not
	}
	b.keep.mu.Lock()
	ghosts := b.keep.ghosts
	b.keep.mu.Unlock()
	if !ghosts {
		return nil
	}
	live := make([]bool, len(out.CommonPrefixes))
	errs := make([]error, len(out.CommonPrefixes))
	parallel(len(out.CommonPrefixes), checkConcurrency, func(i int) {
		got, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
			Bucket:  &b.bucket,
			Prefix:  out.CommonPrefixes[i].Prefix,
			MaxKeys: aws.Int32(1),
		})
		live[i], errs[i] = err == nil && len(got.Contents) > 0, err
	})
	kept := out.CommonPrefixes[:0:0]
	for i, cp := range out.CommonPrefixes {
		if errs[i] != nil {
			return b.mapErr("list", strings.TrimPrefix(aws.ToString(cp.Prefix), b.prefix), errs[i])
		}
		if live[i] {
			kept = append(kept, cp)
		}
	}
	out.CommonPrefixes = kept
	return nil
}
