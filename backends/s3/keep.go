package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bassareggiana/faldone/backends"
)

// Kept content (backends.Keeper) has one of two homes, by what the bucket
// says of versioning, which the backend learns once, with the first call
// that needs it (Check at start, or else the first Keeper call or Delete):
// one GetBucketVersioning and one GetObjectLockConfiguration, at once.
//
//   - "bucket versioning", when versioning is Enabled: a discarded or
//     preserved file is the version it had, which S3 keeps when a delete
//     marker or a new version covers it. Its locator is
//     "v:" + the version id, query-escaped + ":" + the file's path
//     ("v:3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY:guastalla/2019/a.pdf"): the
//     version id holds no ":" once escaped, so the first ":" after "v:"
//     ends it.
//   - "hidden prefix" otherwise: a copy under <prefix>.faldone-cestino/<id>/,
//     named as on a disk: the discarded file or folder under its own name,
//     and below it what was in it. Its locator is that key without the
//     prefix (".faldone-cestino/<id>/PC-0042/a/b.pdf"). The folder is no
//     path (checkPath) and no listing shows it.
//
// Either locator may exceed 1,024 bytes for a path near the longest that
// S3 takes, and a hidden key may then exceed S3's own limit: such a file is
// refused by Discard or Preserve (ErrInvalidPath), and nothing is lost.

// Keep modes, as KeepMode names them.
const (
	modeVersioned = "bucket versioning"
	modeHidden    = "hidden prefix"
)

// versionPrefix starts the locators of versions.
const versionPrefix = "v:"

// keepState is what the bucket says of versioning and Object Lock.
type keepState struct {
	mu        sync.Mutex
	known     bool
	versioned bool // versioning Enabled
	locked    bool // Object Lock Enabled
	ghosts    bool // delimited listings show folders of delete markers (ghosts.go)
}

var (
	_ backends.Keeper = (*Backend)(nil)
	_ backends.Holder = (*Backend)(nil)
)

// learn asks the bucket once for its versioning and Object Lock
// configurations. A refusal to tell (access denied, an API the server lacks)
// is taken as neither, for good; a storage that does not answer is an
// error, and the next call asks again.
func (b *Backend) learn(ctx context.Context) (versioned, locked bool, err error) {
	b.keep.mu.Lock()
	defer b.keep.mu.Unlock()
	if b.keep.known {
		return b.keep.versioned, b.keep.locked, nil
	}
	var verr, lerr error
	var ghosts bool
	parallel(2, 2, func(i int) {
		if i == 0 {
			var out *awss3.GetBucketVersioningOutput
			out, verr = b.client.GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: &b.bucket})
			if verr == nil {
				versioned = out.Status == types.BucketVersioningStatusEnabled
				ghosts = versioned && listsGhosts(out.ResultMetadata)
			}
			return
		}
		var out *awss3.GetObjectLockConfigurationOutput
		out, lerr = b.client.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: &b.bucket})
		switch {
		case lerr == nil:
			locked = out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled
		case isCode(lerr, "ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound", "NoSuchObjectLockConfiguration"):
			lerr = nil
		}
	})
	for _, err := range []*error{&verr, &lerr} {
		if *err != nil && (b.refusal(*err)) {
			*err = nil
		}
	}
	if err := errors.Join(verr, lerr); err != nil {
		return false, false, b.mapErr("keep mode", b.bucket, err)
	}
	b.keep.known, b.keep.versioned, b.keep.locked, b.keep.ghosts = true, versioned, locked, ghosts
	return versioned, locked, nil
}

// refusal reports whether err is a server's refusal to answer a question
// about the bucket, rather than a failure to answer.
func (b *Backend) refusal(err error) bool {
	if errors.Is(b.classify(err), backends.ErrAccessDenied) || isCode(err, "NotImplemented", "MethodNotAllowed") {
		return true
	}
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		return re.HTTPStatusCode() == http.StatusNotImplemented
	}
	return false
}

// KeepMode is "bucket versioning" or "hidden prefix", or "unknown" when
// the bucket did not answer (it asks, once, if nothing asked before).
func (b *Backend) KeepMode() string {
	ctx, cancel := context.WithTimeout(context.Background(), failTimeout)
	defer cancel()
	versioned, _, err := b.learn(ctx)
	switch {
	case err != nil:
		return "unknown"
	case versioned:
		return modeVersioned
	}
	return modeHidden
}

// keptPath is the path, relative to the prefix, of the kept copy of the
// file p of a set id whose discarded root is root.
func keptPath(id, root, p string) string {
	rel := path.Base(root)
	if p != root {
		rel += "/" + strings.TrimPrefix(p, root+"/")
	}
	return backends.KeepFolder + "/" + id + "/" + rel
}

// versionLoc is the locator of the version v of the file p.
func versionLoc(v, p string) string {
	return versionPrefix + url.QueryEscape(v) + ":" + p
}

// parseLoc reads a locator into the source it names.
func (b *Backend) parseLoc(loc string) (source, error) {
	bad := fmt.Errorf("locator %q: %w", loc, backends.ErrInvalidPath)
	if rest, ok := strings.CutPrefix(loc, versionPrefix); ok {
		ev, p, ok := strings.Cut(rest, ":")
		v, err := url.QueryUnescape(ev)
		if !ok || err != nil || v == "" || p == "" || checkPath(p) != nil {
			return source{}, bad
		}
		return source{path: loc, key: b.key(p), version: v, kept: true}, nil
	}
	rest, ok := strings.CutPrefix(loc, backends.KeepFolder+"/")
	id, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || name == "" || backends.CheckKeepID(id) != nil || backends.CheckPath(loc) != nil {
		return source{}, bad
	}
	return source{path: loc, key: b.prefix + loc, kept: true}, nil
}

// filesOf is the files that Discard of root keeps: root itself, or the
// files of tree below it.
func filesOf(root backends.Entry, tree []backends.Entry) []backends.Entry {
	if !root.IsDir {
		return []backends.Entry{root}
	}
	var files []backends.Entry
	for _, e := range tree {
		if !e.IsDir && strings.HasPrefix(e.Path, root.Path+"/") {
			files = append(files, e)
		}
	}
	return files
}

// deletionsOf is what Delete removes to discard root: the files, then the
// folders' markers, root's included.
func deletionsOf(root backends.Entry, files, tree []backends.Entry) []string {
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if root.IsDir {
		for _, e := range tree {
			if e.IsDir && strings.HasPrefix(e.Path, root.Path+"/") {
				paths = append(paths, e.Path+"/")
			}
		}
		paths = append(paths, root.Path+"/")
	}
	return paths
}

// Discard keeps root's files and deletes root as Delete does (with delete
// markers on a versioned bucket, so that the versions stay).
//
// Versioned: one ListObjectVersions a 1,000 versions under root finds the
// current version of each file, then Delete's requests; nothing is
// copied. A file whose entry a HeadObject made needs no listing: the
// version it read is kept (should another client write the file in
// between, that newer content stays among the bucket's versions, out of
// the bin).
// Hidden prefix: one CopyObject a file, 8 at once (UploadPartCopy requests
// above 5 GiB), then Delete's requests; a failed copy deletes nothing,
// removes the copies made (one DeleteObjects a 1,000) and is returned.
// Files whose delete failed stay where they were and out of the map.
func (b *Backend) Discard(ctx context.Context, root backends.Entry, tree []backends.Entry, id string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkTarget(root.Path); err != nil {
		return nil, err
	}
	if err := backends.CheckKeepID(id); err != nil {
		return nil, err
	}
	versioned, _, err := b.learn(ctx)
	if err != nil {
		return nil, err
	}
	files := filesOf(root, tree)
	locs := make(map[string]string, len(files))
	if v := describedVersion(root); versioned && !root.IsDir && v != "" {
		// The lookup that described the file read its version: that
		// content is the one kept.
		locs[root.Path] = versionLoc(v, root.Path)
	} else if versioned {
		prefix := b.key(root.Path)
		if root.IsDir {
			prefix = b.dirKey(root.Path)
		}
		current, err := b.listCurrent(ctx, prefix, 0)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if v, ok := current[b.key(f.Path)]; ok {
				locs[f.Path] = versionLoc(v.id, f.Path)
			}
		}
	} else {
		kept := make([]string, len(files))
		errs := make([]error, len(files))
		parallel(len(files), checkConcurrency, func(i int) {
			kept[i] = keptPath(id, root.Path, files[i].Path)
			errs[i] = b.keepCopy(ctx, files[i], kept[i], "")
		})
		if err := errors.Join(errs...); err != nil {
			var made []string
			for i, e := range errs {
				if e == nil {
					made = append(made, kept[i])
				}
			}
			return nil, errors.Join(err, b.purgeKeys(context.WithoutCancel(ctx), made))
		}
		for i, f := range files {
			locs[f.Path] = kept[i]
		}
	}
	err = b.delete(ctx, deletionsOf(root, files, tree), false)
	if de, ok := errors.AsType[*backends.DeleteError](err); ok {
		var orphans []string
		for p := range de.Failed {
			if loc, ok := locs[p]; ok {
				delete(locs, p)
				if !versioned {
					orphans = append(orphans, loc)
				}
			}
		}
		err = errors.Join(err, b.purgeKeys(context.WithoutCancel(ctx), orphans))
	} else if err != nil {
		return nil, errors.Join(err, b.purgeKeys(context.WithoutCancel(ctx), slices.Collect(mapValues(locs, !versioned))))
	}
	return locs, err
}

// mapValues yields the values of m when all, else nothing.
func mapValues(m map[string]string, all bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		if !all {
			return
		}
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// keepCopy copies the file e, as it is (ifMatch: only with that quoted
// ETag), to the kept path: one CopyObject that keeps its headers, or a
// HeadObject and a multipart copy above 5 GiB.
func (b *Backend) keepCopy(ctx context.Context, e backends.Entry, kept, ifMatch string) error {
	src := source{path: e.Path, key: b.key(e.Path)}
	if e.Size > b.copyThreshold {
		h, err := b.head(ctx, "keep", e.Path)
		if err != nil {
			return err
		}
		if ifMatch != "" && `"`+h.ETag+`"` != ifMatch {
			return &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("changed since it was described: %w", backends.ErrNotFound)}
		}
		hs, _ := parseAttrs(h.Attrs)
		_, err = b.copyParts(ctx, src, kept, h.Size, `"`+h.ETag+`"`, hs)
		return err
	}
	_, err := b.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:            &b.bucket,
		Key:               aws.String(b.prefix + kept),
		CopySource:        aws.String(src.copySource(b.bucket)),
		CopySourceIfMatch: optional(ifMatch),
	})
	if isCode(err, "PreconditionFailed") {
		return &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("changed since it was described: %w", backends.ErrNotFound)}
	}
	if err != nil {
		return b.mapErr("keep", e.Path, err)
	}
	return nil
}

// Preserve keeps the content the file e has now. Versioned: one HeadObject
// learns the current version, which must have e's ETag. Hidden prefix:
// one CopyObject on the condition of e's ETag. A file changed since e
// described it is an error wrapping ErrNotFound.
func (b *Backend) Preserve(ctx context.Context, e backends.Entry, id string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkTarget(e.Path); err != nil {
		return "", err
	}
	if err := backends.CheckKeepID(id); err != nil {
		return "", err
	}
	if e.IsDir {
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: backends.ErrIsDir}
	}
	versioned, _, err := b.learn(ctx)
	if err != nil {
		return "", err
	}
	if !versioned {
		kept := keptPath(id, e.Path, e.Path)
		ifMatch := ""
		if e.ETag != "" {
			ifMatch = `"` + e.ETag + `"`
		}
		if err := b.keepCopy(ctx, e, kept, ifMatch); err != nil {
			return "", err
		}
		return kept, nil
	}
	out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.key(e.Path))})
	if err != nil {
		return "", b.mapErr("preserve", e.Path, err)
	}
	if e.ETag != "" && unquote(aws.ToString(out.ETag)) != e.ETag {
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("changed since it was described: %w", backends.ErrNotFound)}
	}
	v := aws.ToString(out.VersionId)
	if v == "" {
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("%w: the bucket is versioned but the file has no version id", backends.ErrUnavailable)}
	}
	return versionLoc(v, e.Path), nil
}

// OpenKept reads kept content with one GetObject, of the version for a
// versioned locator, with the range as Open sends it.
func (b *Backend) OpenKept(ctx context.Context, loc string, r *backends.Range) (*backends.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := b.parseLoc(loc)
	if err != nil {
		return nil, err
	}
	if r != nil && (r.Length == 0 || r.Start < 0 && r.Length < 0) {
		out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: &s.key, VersionId: optional(s.version)})
		if err != nil {
			return nil, b.mapErr("open", loc, err)
		}
		if size := aws.ToInt64(out.ContentLength); r.Start < 0 || r.Start >= size {
			return nil, &fs.PathError{Op: "open", Path: loc, Err: backends.ErrRange}
		}
		return &backends.Object{Entry: fileEntry(loc, aws.ToInt64(out.ContentLength), out.ETag, out.LastModified), Body: http.NoBody, Start: r.Start}, nil
	}
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket:    &b.bucket,
		Key:       &s.key,
		VersionId: optional(s.version),
		Range:     httpRange(r),
	})
	if err != nil {
		return nil, b.mapErr("open", loc, err)
	}
	obj, err := object(keptName(s), r, out)
	if err != nil {
		out.Body.Close()
		return nil, &fs.PathError{Op: "open", Path: loc, Err: err}
	}
	obj.Path = loc
	return obj, nil
}

// keptName is a name for the content type of kept content: its key's.
func keptName(s source) string { return path.Base(s.key) }

// Restore copies the kept content to dst as Copy copies a file: a
// HeadObject of it and the listings for dst's parent and for a folder at
// dst, at once, then a CopyObject. loc stays kept.
func (b *Backend) Restore(ctx context.Context, loc, dst string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	s, err := b.parseLoc(loc)
	if err != nil {
		return backends.Entry{}, err
	}
	return b.copyFrom(ctx, "restore", s, dst, backends.CopyOptions{})
}

// Purge deletes kept content for good: one DeleteObjects a 1,000 locators,
// a version with its id (and a hidden key, also one that an earlier mode
// left on a bucket since versioned, plainly). A version that is still its
// file's current one is the file, not kept content: Purge leaves it, which
// costs a look at the current versions first (see currentVersions).
func (b *Backend) Purge(ctx context.Context, locs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var hidden, versions []source
	var errs []error
	for _, loc := range locs {
		s, err := b.parseLoc(loc)
		switch {
		case err != nil:
			errs = append(errs, err)
		case s.version != "":
			versions = append(versions, s)
		default:
			hidden = append(hidden, s)
		}
	}
	if len(versions) > 0 {
		keys := make([]string, len(versions))
		for i, s := range versions {
			keys[i] = s.key
		}
		current, err := b.currentVersions(ctx, keys)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		versions = slices.DeleteFunc(versions, func(s source) bool { return current[s.key].id == s.version })
	}
	if err := b.deleteSources(ctx, append(hidden, versions...)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// purgeKeys deletes kept copies by their locators, plainly.
func (b *Backend) purgeKeys(ctx context.Context, locs []string) error {
	var ss []source
	for _, loc := range locs {
		ss = append(ss, source{path: loc, key: b.prefix + loc})
	}
	return b.deleteSources(ctx, ss)
}

// deleteSources deletes objects, or versions of them, with one
// DeleteObjects a 1,000; what is gone already is no error.
func (b *Backend) deleteSources(ctx context.Context, ss []source) error {
	var errs []error
	for batch := range slices.Chunk(ss, pageSize) {
		objects := make([]types.ObjectIdentifier, len(batch))
		for i, s := range batch {
			objects[i] = types.ObjectIdentifier{Key: aws.String(s.key), VersionId: optional(s.version)}
		}
		out, err := b.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: &b.bucket,
			Delete: &types.Delete{Objects: objects, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return errors.Join(append(errs, b.mapErr("purge", batch[0].path, err))...)
		}
		for _, e := range out.Errors {
			code := aws.ToString(e.Code)
			// A version gone: NoSuchVersion on AWS, InvalidArgument on
			// versitygw.
			if code == "NoSuchKey" || code == "NoSuchVersion" || code == "InvalidArgument" && e.VersionId != nil {
				continue
			}
			errs = append(errs, b.mapErr("purge", aws.ToString(e.Key), &smithy.GenericAPIError{Code: code, Message: aws.ToString(e.Message)}))
		}
	}
	return errors.Join(errs...)
}

// version is what a listing of versions says of a key's current version.
type version struct {
	id    string
	alone bool // the key has no other version nor delete marker
}

// listCurrent lists the versions of the keys under prefix, one
// ListObjectVersions a 1,000, and returns the current version of each key
// whose current version is no delete marker. With maxPages > 0 it stops
// after that many pages, and last is then the last key it is sure of:
// the listing gives a key's current version first.
func (b *Backend) listCurrentUpTo(ctx context.Context, prefix string, maxPages int) (current map[string]version, last string, complete bool, err error) {
	current = map[string]version{}
	seen := map[string]int{}
	in := &awss3.ListObjectVersionsInput{Bucket: &b.bucket, Prefix: aws.String(prefix), MaxKeys: aws.Int32(pageSize)}
	for page := 1; ; page++ {
		out, err := b.client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, "", false, b.mapErr("list versions", prefix, err)
		}
		for _, v := range out.Versions {
			k := aws.ToString(v.Key)
			seen[k]++
			if aws.ToBool(v.IsLatest) {
				current[k] = version{id: aws.ToString(v.VersionId)}
			}
			last = max(last, k)
		}
		for _, m := range out.DeleteMarkers {
			k := aws.ToString(m.Key)
			seen[k]++
			last = max(last, k)
		}
		if !aws.ToBool(out.IsTruncated) {
			for k, v := range current {
				v.alone = seen[k] == 1
				current[k] = v
			}
			return current, last, true, nil
		}
		if maxPages > 0 && page >= maxPages {
			return current, last, false, nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

func (b *Backend) listCurrent(ctx context.Context, prefix string, maxPages int) (map[string]version, error) {
	current, _, _, err := b.listCurrentUpTo(ctx, prefix, maxPages)
	return current, err
}

// currentVersions finds the current version of each key, leaving out the
// keys that have none (gone, or a delete marker on top). For one or two
// keys, a ListObjectVersions each of the key's own; for more, pages of ListObjectVersions over the
// keys' common prefix, at most one for every 8 keys (what their
// HeadObjects, 8 at once, would cost in time), then a HeadObject for each
// key after the last listed.
func (b *Backend) currentVersions(ctx context.Context, keys []string) (map[string]version, error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	current := map[string]version{}
	rest := keys
	if len(keys) > 2 {
		got, last, complete, err := b.listCurrentUpTo(ctx, commonPrefix(keys), (len(keys)+7)/8)
		if err != nil {
			return nil, err
		}
		current = got
		rest = nil
		if !complete {
			for _, k := range keys {
				if k > last {
					rest = append(rest, k)
				}
			}
		}
	}
	found := make([]version, len(rest))
	errs := make([]error, len(rest))
	parallel(len(rest), checkConcurrency, func(i int) { found[i], errs[i] = b.currentVersion(ctx, rest[i], len(keys) <= 2) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, k := range rest {
		if found[i].id != "" {
			current[k] = found[i]
		}
	}
	return current, nil
}

// currentVersion finds the current version of key with one request: a
// ListObjectVersions of the key's own versions first, which tells whether
// it has others too, when listed, else a HeadObject. No version is the
// zero version.
func (b *Backend) currentVersion(ctx context.Context, key string, listed bool) (version, error) {
	if !listed {
		out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(key)})
		switch {
		case err == nil:
			return version{id: aws.ToString(out.VersionId)}, nil
		case errors.Is(b.classify(err), backends.ErrNotFound):
			return version{}, nil
		}
		return version{}, b.mapErr("delete", key, err)
	}
	// The key's versions come first among those of the keys it starts.
	out, err := b.client.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: &b.bucket, Prefix: aws.String(key), MaxKeys: aws.Int32(probeKeys)})
	if err != nil {
		return version{}, b.mapErr("delete", key, err)
	}
	var v version
	n := 0
	for _, o := range out.Versions {
		if aws.ToString(o.Key) == key {
			n++
			if aws.ToBool(o.IsLatest) {
				v.id = aws.ToString(o.VersionId)
			}
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			n++
		}
	}
	last := ""
	if len(out.Versions) > 0 {
		last = aws.ToString(out.Versions[len(out.Versions)-1].Key)
	}
	v.alone = n == 1 && (!aws.ToBool(out.IsTruncated) || last > key)
	return v, nil
}

// commonPrefix is the longest string that starts every key.
func commonPrefix(keys []string) string {
	p := keys[0]
	for _, k := range keys[1:] {
		n := 0
		for n < len(p) && n < len(k) && p[n] == k[n] {
			n++
		}
		p = p[:n]
	}
	for !utf8.ValidString(p) { // cut inside a character
		p = p[:len(p)-1]
	}
	return p
}
