package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithymw "github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A listing page of 1,000 keys is about 300 kB of XML, and the SDK's
// decoder (encoding/xml, a token and a few allocations per element) spent
// more than half of the gateway's CPU time in a Depth-1 PROPFIND of a large
// folder. fastList replaces it, for ListObjectsV2 only, by a scanner of the
// few shapes S3 servers send; whatever it is not sure to read exactly as
// the SDK would (comments, CDATA, prefixed names, carriage returns, other
// encodings, malformed numbers or dates) goes to the SDK's own decoder, on
// the same bytes. Error responses always go to the SDK's decoder.

// fastList returns the per-call option of ListObjectsV2 that installs the
// scanner; fallbacks counts the listings it leaves to the SDK's decoder.
func fastList(fallbacks *atomic.Int64) func(*awss3.Options) {
	return func(o *awss3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *smithymw.Stack) error {
			d := &listDecoder{fallbacks: fallbacks}
			old, err := stack.Deserialize.Swap("OperationDeserializer", d)
			d.sdk = old
			return err
		})
	}
}

type listDecoder struct {
	sdk       smithymw.DeserializeMiddleware
	fallbacks *atomic.Int64
}

func (*listDecoder) ID() string { return "OperationDeserializer" }

// listBufs holds the buffers that listing bodies are read into.
var listBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (d *listDecoder) HandleDeserialize(ctx context.Context, in smithymw.DeserializeInput, next smithymw.DeserializeHandler) (
	smithymw.DeserializeOutput, smithymw.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return d.sdk.HandleDeserialize(ctx, in, replay{out, md, err})
	}
	buf := listBufs.Get().(*bytes.Buffer)
	defer listBufs.Put(buf)
	buf.Reset()
	_, rerr := buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to read response body, %w", rerr)}
	}
	if result, ok := parseListV2(buf.Bytes()); ok {
		if v := resp.Header.Get("x-amz-request-charged"); v != "" {
			result.RequestCharged = types.RequestCharged(v)
		}
		out.Result = result
		return out, md, nil
	}
	// Not sure: the SDK's decoder reads the same bytes.
	d.fallbacks.Add(1)
	resp.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
	return d.sdk.HandleDeserialize(ctx, in, replay{out, md, nil})
}

// replay is the rest of the stack, already run: the SDK's decoder gets the
// response that it would have got.
type replay struct {
	out smithymw.DeserializeOutput
	md  smithymw.Metadata
	err error
}

func (r replay) HandleDeserialize(context.Context, smithymw.DeserializeInput) (smithymw.DeserializeOutput, smithymw.Metadata, error) {
	return r.out, r.md, r.err
}

// xmlScanner reads the elements of a document of the simple kind: elements,
// attributes, character data and the five predefined entities and character
// references. ok turns false at anything else, and the caller gives up.
type xmlScanner struct {
	b   []byte
	i   int
	ok  bool
	txt []byte // scratch for text with references
}

// parseListV2 reads a ListBucketResult; ok is false when the SDK's decoder
// should read it instead.
func parseListV2(b []byte) (*awss3.ListObjectsV2Output, bool) {
	s := &xmlScanner{b: b, ok: true}
	s.prolog()
	root, empty := s.start()
	if !s.ok || !bytes.EqualFold(root, []byte("ListBucketResult")) {
		return nil, false
	}
	out := &awss3.ListObjectsV2Output{}
	for !empty && s.ok {
		n, e, done := s.next(root)
		if done || !s.ok {
			break
		}
		switch {
		case bytes.EqualFold(n, []byte("Contents")):
			var o types.Object
			if !e {
				s.object(n, &o)
			}
			out.Contents = append(out.Contents, o)
		case bytes.EqualFold(n, []byte("CommonPrefixes")):
			var cp types.CommonPrefix
			for !e && s.ok {
				c, ce, done := s.next(n)
				if done || !s.ok {
					break
				}
				if bytes.EqualFold(c, []byte("Prefix")) {
					cp.Prefix = s.str(c, ce)
				} else {
					s.skip(c, ce)
				}
			}
			out.CommonPrefixes = append(out.CommonPrefixes, cp)
		case bytes.EqualFold(n, []byte("IsTruncated")):
			t, err := strconv.ParseBool(string(s.text(n, e)))
			s.ok = s.ok && err == nil
			out.IsTruncated = aws.Bool(t)
		case bytes.EqualFold(n, []byte("NextContinuationToken")):
			out.NextContinuationToken = s.str(n, e)
		case bytes.EqualFold(n, []byte("ContinuationToken")):
			out.ContinuationToken = s.str(n, e)
		case bytes.EqualFold(n, []byte("StartAfter")):
			out.StartAfter = s.str(n, e)
		case bytes.EqualFold(n, []byte("Name")):
			out.Name = s.str(n, e)
		case bytes.EqualFold(n, []byte("Prefix")):
			out.Prefix = s.str(n, e)
		case bytes.EqualFold(n, []byte("Delimiter")):
			out.Delimiter = s.str(n, e)
		case bytes.EqualFold(n, []byte("EncodingType")):
			out.EncodingType = types.EncodingType(s.text(n, e))
		case bytes.EqualFold(n, []byte("KeyCount")):
			out.KeyCount = s.int32(n, e)
		case bytes.EqualFold(n, []byte("MaxKeys")):
			out.MaxKeys = s.int32(n, e)
		default:
			s.skip(n, e)
		}
	}
	if !s.end() {
		return nil, false
	}
	return out, true
}

// object reads the children of the Contents element name that a listing
// uses, and skips the others.
func (s *xmlScanner) object(name []byte, o *types.Object) {
	for s.ok {
		n, e, done := s.next(name)
		if done || !s.ok {
			return
		}
		switch {
		case bytes.EqualFold(n, []byte("Key")):
			o.Key = s.str(n, e)
		case bytes.EqualFold(n, []byte("ETag")):
			o.ETag = s.str(n, e)
		case bytes.EqualFold(n, []byte("Size")):
			size, err := strconv.ParseInt(string(s.text(n, e)), 10, 64)
			s.ok = s.ok && err == nil
			o.Size = aws.Int64(size)
		case bytes.EqualFold(n, []byte("LastModified")):
			t, ok := parseTime(s.text(n, e))
			s.ok = s.ok && ok
			o.LastModified = aws.Time(t)
		case bytes.EqualFold(n, []byte("StorageClass")):
			o.StorageClass = types.ObjectStorageClass(s.text(n, e))
		default:
			s.skip(n, e)
		}
	}
}

// parseTime reads S3's "2006-01-02T15:04:05.000Z" quickly, and any other
// form as the SDK does.
func parseTime(v []byte) (time.Time, bool) {
	if len(v) == 24 && v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[16] == ':' && v[19] == '.' && v[23] == 'Z' {
		num := func(i, j int) int {
			n := 0
			for _, c := range v[i:j] {
				if c < '0' || c > '9' {
					return -1
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
		y, mo, d, h, mi, sec, ms := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 23)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 28 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60 && ms >= 0 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, ms*int(time.Millisecond), time.UTC), true
		}
	}
	t, err := smithytime.ParseDateTime(string(v))
	return t, err == nil
}

func (s *xmlScanner) str(name []byte, empty bool) *string {
	v := s.text(name, empty)
	if !s.ok {
		return nil
	}
	return aws.String(string(v))
}

func (s *xmlScanner) int32(name []byte, empty bool) *int32 {
	n, err := strconv.ParseInt(string(s.text(name, empty)), 10, 32)
	s.ok = s.ok && err == nil
	return aws.Int32(int32(n))
}

// text reads the character data of the element name, just started, and
// its end tag; an element with no data has the empty value, as in the
// SDK. The value is valid until the next call.
func (s *xmlScanner) text(name []byte, empty bool) []byte {
	if empty || !s.ok {
		return s.b[:0]
	}
	start := s.i
	for s.i < len(s.b) && s.b[s.i] != '<' {
		if s.b[s.i] == '&' {
			return s.textRefs(name, start)
		}
		if !s.char() {
			return nil
		}
	}
	v := s.b[start:s.i]
	s.endTag(name)
	return v
}

// char steps over one character of character data, which must be one
// that the SDK's decoder reads as it is: no carriage return (line ends are
// normalized), no "]" (of a "]]>", an error), no byte that is not UTF-8,
// nothing outside XML's range.
func (s *xmlScanner) char() bool {
	c := s.b[s.i]
	switch {
	case c == '\r' || c == ']' || c < 0x20 && c != '\t' && c != '\n':
		s.ok = false
		return false
	case c < utf8.RuneSelf:
		s.i++
		return true
	}
	r, n := utf8.DecodeRune(s.b[s.i:])
	if r == utf8.RuneError && n == 1 || !inXMLRange(r) {
		s.ok = false
		return false
	}
	s.i += n
	return true
}

func inXMLRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// textRefs reads character data that holds references, from start.
func (s *xmlScanner) textRefs(name []byte, start int) []byte {
	s.txt = append(s.txt[:0], s.b[start:s.i]...)
	for s.ok && s.i < len(s.b) && s.b[s.i] != '<' {
		if s.b[s.i] != '&' {
			from := s.i
			if !s.char() {
				return nil
			}
			s.txt = append(s.txt, s.b[from:s.i]...)
			continue
		}
		end := bytes.IndexByte(s.b[s.i:min(len(s.b), s.i+12)], ';')
		if end < 0 {
			s.ok = false
			return nil
		}
		ref := s.b[s.i+1 : s.i+end]
		s.i += end + 1
		switch string(ref) {
		case "amp":
			s.txt = append(s.txt, '&')
		case "lt":
			s.txt = append(s.txt, '<')
		case "gt":
			s.txt = append(s.txt, '>')
		case "quot":
			s.txt = append(s.txt, '"')
		case "apos":
			s.txt = append(s.txt, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				s.ok = false
				return nil
			}
			s.txt = utf8.AppendRune(s.txt, r)
		}
	}
	s.endTag(name)
	return s.txt
}

// charRef reads "#NNN" or "#xHHH", a character that XML allows.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || len(digits) == 0 || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	return rune(n), inXMLRange(rune(n))
}

// prolog skips white space and the XML declaration. Only the declarations
// S3 servers send are taken here — version 1.0, encoding UTF-8, standalone —
// in the canonical form: any other is the SDK's decoder's to judge (the
// fuzz target found declarations the two read differently).
func (s *xmlScanner) prolog() {
	s.space()
	if !bytes.HasPrefix(s.b[s.i:], []byte("<?")) {
		return
	}
	m := xmlDecl.Find(s.b[s.i:])
	if m == nil {
		s.ok = false
		return
	}
	s.i += len(m)
}

// xmlDecl is the form of XML declaration the scanner takes.
var xmlDecl = regexp.MustCompile(`^<\?xml(?:[ \t\r\n]+version=(?:"1\.0"|'1\.0'))?(?:[ \t\r\n]+encoding=(?:"(?i:utf-8)"|'(?i:utf-8)'))?(?:[ \t\r\n]+standalone=(?:"yes"|"no"|'yes'|'no'))?[ \t\r\n]*\?>`)

func (s *xmlScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n':
			s.i++
		default:
			return
		}
	}
}

// start reads a start tag, after white space: its name, and whether it is
// empty ("<a/>").
func (s *xmlScanner) start() (name []byte, empty bool) {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '<' {
		s.ok = false
		return nil, false
	}
	s.i++
	name = s.name()
	if len(name) == 0 {
		s.ok = false
		return nil, false
	}
	for s.ok {
		s.space()
		if s.i >= len(s.b) {
			s.ok = false
			break
		}
		switch s.b[s.i] {
		case '>':
			s.i++
			return name, false
		case '/':
			if s.i+1 < len(s.b) && s.b[s.i+1] == '>' {
				s.i += 2
				return name, true
			}
			s.ok = false
		default:
			s.attr()
		}
	}
	return nil, false
}

// attr skips an attribute: name="value" or name='value', whose value holds
// no '<' and no reference (which would need checking).
func (s *xmlScanner) attr() {
	if len(s.name()) == 0 {
		s.ok = false
		return
	}
	s.space()
	if s.i+1 >= len(s.b) || s.b[s.i] != '=' {
		s.ok = false
		return
	}
	s.i++
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '"' && s.b[s.i] != '\'' {
		s.ok = false
		return
	}
	q := s.b[s.i]
	end := bytes.IndexByte(s.b[s.i+1:], q)
	if v := s.b[s.i+1 : s.i+1+max(end, 0)]; end < 0 || bytes.ContainsAny(v, "<&\r") || !printable(v) {
		s.ok = false
		return
	}
	s.i += end + 2
}

// printable reports whether v is UTF-8 of characters from XML's range
// other than control characters.
func printable(v []byte) bool {
	for _, r := range string(v) {
		if r < 0x20 || r == utf8.RuneError || !inXMLRange(r) {
			return false
		}
	}
	return true
}

// name reads a name of ASCII letters, digits, '-', '_' and '.'; anything
// else (a prefix, other letters) makes the scanner give up.
func (s *xmlScanner) name() []byte {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || s.i > start && ('0' <= c && c <= '9' || c == '-' || c == '.') {
			s.i++
			continue
		}
		if c == ':' || c >= 0x80 {
			s.ok = false
		}
		break
	}
	return s.b[start:s.i]
}

// next reads the next child's start tag, or the end tag of the element
// parent, whose children are being read (done).
func (s *xmlScanner) next(parent []byte) (name []byte, empty, done bool) {
	s.space()
	if s.i+1 < len(s.b) && s.b[s.i] == '<' && s.b[s.i+1] == '/' {
		s.endTag(parent)
		return nil, false, true
	}
	name, empty = s.start()
	return name, empty, false
}

// endTag reads the end tag of the element name.
func (s *xmlScanner) endTag(name []byte) {
	if !s.ok || s.i+1 >= len(s.b) || s.b[s.i] != '<' || s.b[s.i+1] != '/' {
		s.ok = false
		return
	}
	s.i += 2
	if !bytes.Equal(s.name(), name) {
		s.ok = false
		return
	}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '>' {
		s.ok = false
		return
	}
	s.i++
}

// skip skips the element name, just started, children included.
func (s *xmlScanner) skip(name []byte, empty bool) {
	if empty {
		return
	}
	for s.ok && s.i < len(s.b) {
		if s.b[s.i] != '<' {
			if s.b[s.i] == '&' {
				s.ok = false // a reference would need checking
				return
			}
			s.char()
			continue
		}
		if s.i+1 < len(s.b) && s.b[s.i+1] == '/' {
			s.endTag(name)
			return
		}
		child, e := s.start()
		s.skip(child, e)
	}
	s.ok = false
}

// end checks that nothing but white space follows the root element.
func (s *xmlScanner) end() bool {
	s.space()
	return s.ok && s.i == len(s.b)
}
