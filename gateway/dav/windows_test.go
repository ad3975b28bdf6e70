package dav

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// windowsLimit is WebClient's default FileAttributesLimitInBytes: Explorer
// shows no folder whose PROPFIND answer is larger.
const windowsLimit = 1_000_000

// win32Propfind names the live properties of a listing and the four Win32*
// ones. No published capture shows WebClient sending it; clients that
// imitate Windows do, and the benchmark's "Win32 properties" row is it.
const win32Propfind = `<?xml version="1.0" encoding="utf-8" ?>` +
	`<D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">` +
	`<D:getlastmodified/><D:getcontentlength/><D:resourcetype/><D:creationdate/><D:displayname/><D:getcontenttype/>` +
	`<Z:Win32FileAttributes/><Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/>` +
	`</D:prop></D:propfind>`

// yearFolder is a backend whose folder guastalla/2019 holds entries,
// listed as the S3 backend lists a folder: a thousand a page, each entry
// with its size, time, ETag (32 hexadecimal digits) and content type.
type yearFolder struct {
	backends.Backend
	entries []backends.Entry
}

func (b yearFolder) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	if dir != "guastalla/2019" {
		return b.Backend.List(ctx, dir, opts)
	}
	from, _ := strconv.Atoi(opts.Token)
	to := min(from+1000, len(b.entries))
	page := backends.Page{Entries: b.entries[from:to]}
	if to < len(b.entries) {
		page.Next = strconv.Itoa(to)
	}
	return page, nil
}

func (b yearFolder) Stat(ctx context.Context, p string) (backends.Entry, error) {
	for _, e := range b.entries {
		if e.Path == p {
			return e, nil
		}
	}
	return b.Backend.Stat(ctx, p)
}

// savedFromWindows gives each of paths the Win32* properties that Explorer
// sets when it saves a file.
type savedFromWindows struct {
	testStore
	paths []string
}

// win32Saved is what Explorer sets with PROPPATCH when it saves a file.
var win32Saved = []state.Prop{
	{PropName: state.PropName{Space: nsMS, Local: "Win32CreationTime"}, InnerXML: []byte("Wed, 25 Nov 2026 09:58:12 GMT")},
	{PropName: state.PropName{Space: nsMS, Local: "Win32FileAttributes"}, InnerXML: []byte("00000020")},
	{PropName: state.PropName{Space: nsMS, Local: "Win32LastAccessTime"}, InnerXML: []byte("Wed, 25 Nov 2026 10:00:00 GMT")},
	{PropName: state.PropName{Space: nsMS, Local: "Win32LastModifiedTime"}, InnerXML: []byte("Wed, 25 Nov 2026 10:00:00 GMT")},
}

func (s savedFromWindows) ChildProps(ctx context.Context, dir string) (map[string][]state.Prop, error) {
	props, err := s.testStore.ChildProps(ctx, dir)
	if err != nil || dir != "/guastalla/2019" {
		return props, err
	}
	out := map[string][]state.Prop{}
	maps.Copy(out, props)
	for _, p := range s.paths {
		out[p] = win32Saved
	}
	return out, nil
}

func (s savedFromWindows) Props(ctx context.Context, p string) ([]state.Prop, error) {
	if slices.Contains(s.paths, p) {
		return win32Saved, nil
	}
	return s.testStore.Props(ctx, p)
}

// dossierName is the i-th name of a year folder: a dossier's number and
// what it is about, 40 to 59 characters, some accented or with an
// apostrophe.
func dossierName(i int) string {
	kinds := []string{"PC", "SCIA", "CILA", "PdC"}
	about := []string{
		"Ristrutturazione edificio residenziale", "Ampliamento capannone artigianale", "Sanatoria veranda e tettoia",
		"Cambio di destinazione d'uso", "Realizzazione piscina pertinenziale", "Demolizione e ricostruzione fabbricato",
		"Manutenzione straordinaria facciate", "Frazionamento unità immobiliare", "Recinzione e passo carraio",
		"Impianto fotovoltaico su copertura", "Agibilità parziale piano terra", "Variante in corso d'opera",
		"Abbattimento barriere architettoniche", "Consolidamento solaio e sottotetto", "Nuova costruzione è rurale",
	}
	return fmt.Sprintf("%s-2019-%04d - %s", kinds[i%len(kinds)], i, about[i%len(about)])
}

// TestWindowsListingSize: Windows' WebClient lists a folder with a Depth-1
// PROPFIND whose body is empty, which is allprop. Published captures show
// it (cryptomator/cryptomator#1832: Microsoft-WebDAV-MiniRedir/10.0.19043
// sends PROPFIND with Content-Length: 0 and translate: f), and servers work
// around it (Tine 2.0 inserts a body when MiniRedir/6.x or 10.x sends none;
// chrisroberts/dav4rack#63); MS-WDV defines the Win32* properties that the
// client sets with PROPPATCH but no listing body. WebClient gives up on
// answers above FileAttributesLimitInBytes, 1,000,000 bytes by default.
//
// Each answer must be a multistatus with every entry and what Explorer
// shows of it (size, modification time, folder or not, Windows' own
// attributes), and no longer than it is now: fits is how many members end
// within the limit. A year folder of 4,000 dossiers named by number fits
// whole; 4,000 entries named with a description (40 to 59 characters) do
// not, and no answer of this shape could hold them. 4,000 entries leave 250
// bytes each; the response, href, propstat and status elements take 100,
// getlastmodified 64 and "/guastalla/2019/" 16, which leaves a folder
// (resourcetype 41) 28 bytes for its escaped name and a file, with its size
// and ETag, none. Such folders need the registry change the README
// describes.
func TestWindowsListingSize(t *testing.T) {
	const n = 4000
	numbered := func(i int) string { return fmt.Sprintf("PC-2019-%04d", i) }
	for _, tt := range []struct {
		name    string
		body    string
		dirs    bool
		named   func(int) string
		windows bool // each file has the Win32* properties of a save from Explorer
		fits    int
	}{
		{name: "folders named by number", dirs: true, named: numbered, fits: n},
		{name: "folders named with a description", dirs: true, named: dossierName, fits: 3551},
		{name: "files", named: dossierName, fits: 2829},
		{name: "files saved from Windows", named: dossierName, windows: true, fits: 1796},
		{name: "files, Win32 properties named", body: win32Propfind, named: dossierName, fits: 1547},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				entries []backends.Entry
				saved   []string
				want    = map[string]bool{}
				touched = time.Date(2026, 11, 20, 16, 45, 3, 0, time.UTC)
			)
			for i := range n {
				name := tt.named(i)
				e := backends.Entry{Path: "guastalla/2019/" + name, IsDir: true, ModTime: touched}
				if tt.dirs {
					want[name+"/"] = true
				} else {
					name += ".pdf"
					sum := md5.Sum([]byte(name))
					e = backends.Entry{Path: "guastalla/2019/" + name, Size: 184_320 + int64(i), ModTime: touched,
						ETag: hex.EncodeToString(sum[:]), ContentType: backends.ContentType(name)}
					want[name] = true
				}
				if tt.windows {
					saved = append(saved, "/"+e.Path)
				}
				entries = append(entries, e)
			}
			// Keys in byte order, a folder's with its slash.
			key := func(e backends.Entry) string {
				if e.IsDir {
					return e.Path + "/"
				}
				return e.Path
			}
			slices.SortFunc(entries, func(a, b backends.Entry) int { return strings.Compare(key(a), key(b)) })
			d := newDAVTest(t, Options{}, func(b backends.Backend, s testStore) (backends.Backend, testStore) {
				return yearFolder{b, entries}, savedFromWindows{s, saved}
			})
			w := d.do("PROPFIND", "/guastalla/2019/", tt.body, "Depth", "1", userHeader, "anna",
				"User-Agent", "Microsoft-WebDAV-MiniRedir/10.0.19045", "translate", "f")
			ms := parseMembers(t, w)
			if len(ms) != n+1 || ms[0].href != "/guastalla/2019/" {
				t.Fatalf("%d responses, the first for %q; want the folder and its %d entries", len(ms), ms[0].href, n)
			}
			for _, r := range ms[1:] {
				name, err := url.PathUnescape(strings.TrimPrefix(r.href, "/guastalla/2019/"))
				if err != nil || !want[name] {
					t.Fatalf("unexpected or repeated href %q", r.href)
				}
				delete(want, name)
				// What Explorer shows; "" is any value.
				shows := map[xml.Name]string{davName("getlastmodified"): "Fri, 20 Nov 2026 16:45:03 GMT"}
				switch {
				case tt.dirs:
					shows[davName("resourcetype")] = "<collection/>"
				case tt.windows:
					shows[davName("getlastmodified")] = "Wed, 25 Nov 2026 10:00:00 GMT"
					shows[xml.Name{Space: nsMS, Local: "Win32FileAttributes"}] = "00000020"
					shows[xml.Name{Space: nsMS, Local: "Win32CreationTime"}] = "Wed, 25 Nov 2026 09:58:12 GMT"
				}
				if !tt.dirs {
					shows[davName("getcontentlength")] = ""
				}
				for name, value := range shows {
					if v, ok := r.props[name]; !ok || (value != "" && v != value) {
						t.Fatalf("%s: %s is %q, want %q: %v", r.href, name.Local, v, value, r.props)
					}
				}
			}
			// Asked for itself, a member has every property.
			if !tt.dirs && tt.body == "" {
				href := ms[n/2].href
				got := parseMembers(t, d.do("PROPFIND", href, "", "Depth", "0", userHeader, "anna"))[0].props
				all := []xml.Name{davName("getcontenttype"), davName("creationdate"), davName("displayname"), davName("getetag"), davName("supportedlock")}
				if tt.windows {
					all = append(all, win32Modified)
				}
				for _, name := range all {
					if _, ok := got[name]; !ok {
						t.Errorf("Depth 0 of %s lacks %s: %v", href, name.Local, got)
					}
				}
			}
			body := w.Body.String()
			fits := 0
			for off := 0; ; fits++ {
				i := strings.Index(body[off:], "</response>")
				if i < 0 || off+i+len("</response></multistatus>") >= windowsLimit {
					break
				}
				off += i + len("</response>")
			}
			fits-- // the first response is the folder's own
			t.Logf("%d bytes for %d entries, %d bytes an entry; %d entries fit in %d bytes", len(body), n, len(body)/n, fits, windowsLimit)
			if fits < tt.fits {
				t.Errorf("%d entries fit in Windows' limit, want at least %d", fits, tt.fits)
			}
		})
	}
}

// member is what a multistatus answer says it found (status 200) for one
// href: each property's content, as XML.
type member struct {
	href  string
	props map[xml.Name]string
}

func parseMembers(t *testing.T, w *httptest.ResponseRecorder) []member {
	t.Helper()
	parseMultistatus(t, w)
	var ms struct {
		Responses []struct {
			Href     string `xml:"DAV: href"`
			Propstat []struct {
				Prop struct {
					Any []struct {
						XMLName xml.Name
						Inner   string `xml:",innerxml"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &ms); err != nil {
		t.Fatal(err)
	}
	out := make([]member, len(ms.Responses))
	for i, r := range ms.Responses {
		out[i] = member{href: r.Href, props: map[xml.Name]string{}}
		for _, ps := range r.Propstat {
			if strings.Contains(ps.Status, " 200 ") {
				for _, p := range ps.Prop.Any {
					out[i].props[p.XMLName] = p.Inner
				}
			}
		}
	}
	return out
}
