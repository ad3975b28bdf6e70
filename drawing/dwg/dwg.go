// Package dwg tells which AutoCAD release wrote a drawing: a DWG file's
// first six bytes, or a DXF file's $ACADVER, name the format's version.
// DWG's content is not read: the format is closed and changes with each
// release, and the gateway only needs to say which program opens it.
package dwg

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Release is one version of the drawing format.
type Release struct {
	Code string // as the file writes it: "AC1032"
	Name string // the AutoCAD releases that write it, in Italian
}

// releases are the format versions people meet in an archive of permits
// filed since the 1990s. AC1032 is still the current format: every release
// from 2018 on writes it, hence "o successivo".
var releases = []Release{
	{"AC1002", "AutoCAD 2.5"},
	{"AC1003", "AutoCAD 2.6"},
	{"AC1004", "AutoCAD R9"},
	{"AC1006", "AutoCAD R10"},
	{"AC1009", "AutoCAD R11/R12"},
	{"AC1012", "AutoCAD R13"},
	{"AC1014", "AutoCAD R14"},
	{"AC1015", "AutoCAD 2000-2002"},
	{"AC1018", "AutoCAD 2004-2006"},
	{"AC1021", "AutoCAD 2007-2009"},
	{"AC1024", "AutoCAD 2010-2012"},
	{"AC1027", "AutoCAD 2013-2017"},
	{"AC1032", "AutoCAD 2018 o successivo"},
}

// Unknown is the line for a file whose version is not one of releases.
const Unknown = "formato DWG non riconosciuto"

// Lookup returns the release of a version code.
func Lookup(code string) (Release, bool) {
	for _, r := range releases {
		if r.Code == code {
			return r, true
		}
	}
	return Release{}, false
}

// Describe is the line people read for a version code: "AutoCAD 2018 o
// successivo (AC1032)", or Unknown.
func Describe(code string) string {
	r, ok := Lookup(code)
	if !ok {
		return Unknown
	}
	return r.Name + " (" + r.Code + ")"
}

// HeaderSize is how many bytes of a DWG file Version reads.
const HeaderSize = 6

// ErrShort is Version's error for a file shorter than its version.
var ErrShort = errors.New("dwg: file shorter than its version")

// Version reads the version code from the start of a DWG file: six ASCII
// bytes, "AC1032". A code that is not printable ASCII is returned as ""
// with no error: not a DWG file Describe can name.
func Version(ctx context.Context, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var b [HeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return "", ErrShort
		}
		return "", fmt.Errorf("dwg: read the version: %w", err)
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "", nil
		}
	}
	return string(b[:]), nil
}
