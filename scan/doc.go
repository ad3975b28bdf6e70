// Package scan is the home of what the pages need to show scanned
// documents a page at a time: scan/tiff reads the structure of multi-page
// TIFF files through ranged reads (archive/ranged) and cuts one page out
// of them, and scan/render turns a page of a TIFF or a PDF into an image a browser
// shows, through bounded subprocesses and an on-disk cache.
package scan
