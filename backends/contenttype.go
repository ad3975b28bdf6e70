package backends

import (
	"path"
	"strings"
)

// contentTypes maps lower-case extensions to the content types of the formats
// found in building-permit dossiers. It is a fixed table rather than
// mime.TypeByExtension, which also reads the host's MIME files: the same file
// must get the same type on every replica and every backend.
var contentTypes = map[string]string{
	// Documents and their digital signatures (CAdES envelopes wrap the signed
	// file, so "relazione.pdf.p7m" is a p7m, not a PDF).
	".pdf":  "application/pdf",
	".p7m":  "application/pkcs7-mime",
	".p7s":  "application/pkcs7-signature",
	".tsd":  "application/timestamped-data",
	".tsr":  "application/timestamp-reply",
	".xml":  "application/xml", // no charset: the XML declaration names it
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv",
	".rtf":  "application/rtf",
	".html": "text/html", // no charset: the document's <meta> names it
	".htm":  "text/html",
	".json": "application/json",
	".eml":  "message/rfc822",
	".msg":  "application/vnd.ms-outlook",

	// Office suites.
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".odp":  "application/vnd.oasis.opendocument.presentation",
	".odg":  "application/vnd.oasis.opendocument.graphics",

	// Drawings (CAD). AutoCAD's backups and lock files are opaque on purpose.
	".dwg":  "image/vnd.dwg",
	".dxf":  "image/vnd.dxf",
	".dwf":  "model/vnd.dwf",
	".bak":  "application/octet-stream",
	".dwl":  "application/octet-stream",
	".dwl2": "application/octet-stream",
	".tmp":  "application/octet-stream",

	// Images and scans.
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".webp": "image/webp",
	".heic": "image/heic",
	".heif": "image/heif",
	".bmp":  "image/bmp",
	".svg":  "image/svg+xml",

	// Maps: shapefile parts, Google Earth, GeoJSON, GeoPackage.
	".shp":     "application/vnd.shp",
	".shx":     "application/vnd.shx",
	".dbf":     "application/dbase",
	".prj":     "text/plain",
	".cpg":     "text/plain",
	".kml":     "application/vnd.google-earth.kml+xml",
	".kmz":     "application/vnd.google-earth.kmz",
	".geojson": "application/geo+json",
	".gpkg":    "application/geopackage+sqlite3",

	// Archives.
	".zip": "application/zip",
	".7z":  "application/x-7z-compressed",
	".rar": "application/vnd.rar",
	".gz":  "application/gzip",
	".tar": "application/x-tar",

	// Audio and video (site inspections, hearings).
	".mp4": "video/mp4",
	".mov": "video/quicktime",
	".mp3": "audio/mpeg",
	".m4a": "audio/mp4",
}

// ContentType returns the content type of a file from its name alone, by its
// last extension, ignoring case. name may be a path; only its last element
// counts. Unknown extensions are "application/octet-stream".
func ContentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
