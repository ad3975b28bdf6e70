// Package guida holds the guide for the people who use the archive, in
// Italian: the Markdown that GitHub shows and the pages serve at /_/guida/,
// with the screenshots that tests/browser's TestGuideScreenshots makes.
package guida

import "embed"

// Files are the guide (README.md) and its images (img/).
//
//go:embed README.md img
var Files embed.FS
