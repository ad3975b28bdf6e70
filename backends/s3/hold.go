package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/backends"
)

// Holdable reports whether the bucket has Object Lock enabled, as learned
// with its versioning (see keep.go); false when the bucket did not answer.
func (b *Backend) Holdable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), failTimeout)
	defer cancel()
	_, locked, err := b.learn(ctx)
	return err == nil && locked
}

// Hold puts or lifts a legal hold, or sets a compliance retention until
// until, on every version of every file of the folder dir and below: one
// ListObjectVersions a 1,000 versions (delete markers and folder markers
// left out), and one PutObjectLegalHold or PutObjectRetention a version,
// 8 at once. Lifting (off) touches legal holds only. It returns how many
// versions it set; on a failure, those set before it.
func (b *Backend) Hold(ctx context.Context, dir string, on bool, until time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkPath(dir); err != nil {
		return 0, err
	}
	if !b.Holdable() {
		return 0, fmt.Errorf("bucket %s has no Object Lock: %w", b.bucket, errors.ErrUnsupported)
	}
	retain := on && !until.IsZero()
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	set := func(v types.ObjectVersion) error {
		var err error
		if retain {
			_, err = b.client.PutObjectRetention(ctx, &awss3.PutObjectRetentionInput{
				Bucket:    &b.bucket,
				Key:       v.Key,
				VersionId: v.VersionId,
				Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.UTC())},
			})
		} else {
			_, err = b.client.PutObjectLegalHold(ctx, &awss3.PutObjectLegalHoldInput{
				Bucket:    &b.bucket,
				Key:       v.Key,
				VersionId: v.VersionId,
				LegalHold: &types.ObjectLockLegalHold{Status: status},
			})
		}
		return err
	}
	n := 0
	in := &awss3.ListObjectVersionsInput{Bucket: &b.bucket, Prefix: aws.String(b.dirKey(dir)), MaxKeys: aws.Int32(pageSize)}
	for {
		out, err := b.client.ListObjectVersions(ctx, in)
		if err != nil {
			return n, b.mapErr("hold", dir, err)
		}
		var vs []types.ObjectVersion
		for _, v := range out.Versions {
			if !strings.HasSuffix(aws.ToString(v.Key), "/") {
				vs = append(vs, v)
			}
		}
		errs := make([]error, len(vs))
		parallel(len(vs), checkConcurrency, func(i int) {
			if err := set(vs[i]); err != nil {
				errs[i] = b.mapErr("hold", strings.TrimPrefix(aws.ToString(vs[i].Key), b.prefix), err)
			}
		})
		for _, err := range errs {
			if err == nil {
				n++
			}
		}
		if err := errors.Join(errs...); err != nil {
			return n, fmt.Errorf("hold %q: %w", dir, err)
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

var _ backends.Holder = (*Backend)(nil)
