package backends

import "testing"

func TestContentType(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"relazione.pdf", "application/pdf"},
		{"RELAZIONE.PDF", "application/pdf"},
		{"relazione.pdf.p7m", "application/pkcs7-mime"},
		{"relazione.PDF.P7M", "application/pkcs7-mime"},
		{"firma.p7s", "application/pkcs7-signature"},
		{"tavola.dwg", "image/vnd.dwg"},
		{"Tavola 1.DWG", "image/vnd.dwg"},
		{"tavola.dxf", "image/vnd.dxf"},
		{"tavola.dwf", "model/vnd.dwf"},
		{"scansione.tif", "image/tiff"},
		{"scansione.TIFF", "image/tiff"},
		{"foto.jpg", "image/jpeg"},
		{"foto.JPEG", "image/jpeg"},
		{"foto.png", "image/png"},
		{"foto.gif", "image/gif"},
		{"foto.webp", "image/webp"},
		{"IMG_0001.HEIC", "image/heic"},
		{"lotto.shp", "application/vnd.shp"},
		{"lotto.shx", "application/vnd.shx"},
		{"lotto.dbf", "application/dbase"},
		{"lotto.prj", "text/plain"},
		{"confini.kml", "application/vnd.google-earth.kml+xml"},
		{"confini.kmz", "application/vnd.google-earth.kmz"},
		{"confini.geojson", "application/geo+json"},
		{"rilievo.gpkg", "application/geopackage+sqlite3"},
		{"allegati.zip", "application/zip"},
		{"allegati.7z", "application/x-7z-compressed"},
		{"allegati.rar", "application/vnd.rar"},
		{"allegati.tar.gz", "application/gzip"},
		{"istanza.xml", "application/xml"},
		{"note.txt", "text/plain; charset=utf-8"},
		{"computo.csv", "text/csv"},
		{"relazione.doc", "application/msword"},
		{"relazione.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"computo.xls", "application/vnd.ms-excel"},
		{"computo.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"slide.ppt", "application/vnd.ms-powerpoint"},
		{"slide.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"relazione.odt", "application/vnd.oasis.opendocument.text"},
		{"computo.ods", "application/vnd.oasis.opendocument.spreadsheet"},
		{"slide.odp", "application/vnd.oasis.opendocument.presentation"},
		{"lettera.rtf", "application/rtf"},
		{"pec.eml", "message/rfc822"},
		{"mail.msg", "application/vnd.ms-outlook"},
		{"pagina.html", "text/html"},
		{"dati.json", "application/json"},
		{"tavola.bak", "application/octet-stream"},
		{"tavola.dwl", "application/octet-stream"},
		{"tavola.dwl2", "application/octet-stream"},
		{"x.tmp", "application/octet-stream"},
		{"sopralluogo.mp4", "video/mp4"},

		// The name may be a path: only its last element counts.
		{"PC-2019-0042/tavole/pianta.dwg", "image/vnd.dwg"},
		{"cartella.pdf/senza-estensione", "application/octet-stream"},

		// Unknown or missing extensions.
		{"", "application/octet-stream"},
		{"LEGGIMI", "application/octet-stream"},
		{"punto.", "application/octet-stream"},
		{"x.unknown", "application/octet-stream"},
		{"x.exe", "application/octet-stream"},
	}
	for _, tt := range tests {
		if got := ContentType(tt.name); got != tt.want {
			t.Errorf("ContentType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
