package dav

import (
	"encoding/xml"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/webdav"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

func davName(local string) xml.Name { return xml.Name{Space: nsDAV, Local: local} }

// liveNames are the live properties, in the order allprop and propname list
// them. All are protected: PROPPATCH cannot change them.
var liveNames = []xml.Name{
	davName("resourcetype"), davName("getcontentlength"), davName("getlastmodified"),
	davName("creationdate"), davName("getetag"), davName("getcontenttype"),
	davName("displayname"), davName("supportedlock"), davName("lockdiscovery"),
}

// nsMS is the namespace of the Win32* properties that Windows' WebClient
// sets with PROPPATCH (MS-WDV).
const nsMS = "urn:schemas-microsoft-com:"

// win32Modified is Windows' modification time of a file, set by PROPPATCH.
var win32Modified = xml.Name{Space: nsMS, Local: "Win32LastModifiedTime"}

func isLive(n xml.Name) bool {
	if n.Space == nsDAV && (n.Local == "quota-available-bytes" || n.Local == "quota-used-bytes") {
		return true
	}
	if isDigestProp(n) {
		return true
	}
	for _, l := range liveNames {
		if l == n {
			return true
		}
	}
	return false
}

// resource is what PROPFIND knows of one path, gathered without a storage
// request per entry: the entry from the listing, dead properties and locks
// from one state-store query each (dead properties: one a page, for Depth:
// infinity).
type resource struct {
	path   string
	entry  backends.Entry
	dead   []state.Prop
	locks  []state.Lock
	member bool // listed as a member of the request's folder
	// sum is the file's SHA-256, when asked for and known (hasSum).
	sum    [32]byte
	hasSum bool
}

func (rq *request) propfind() error {
	depth := 1
	switch strings.ToLower(rq.r.Header.Get("Depth")) {
	case "0":
		depth = 0
	case "1":
	case "", "infinity":
		if !rq.opts.AllowInfiniteDepth {
			return &statusError{code: http.StatusForbidden, cond: "propfind-finite-depth", err: errors.New("PROPFIND with infinite depth")}
		}
		depth = -1
	default:
		return newStatus(http.StatusBadRequest, "bad Depth header")
	}
	body, err := readXMLBody(rq.r, rq.opts.MaxXMLBody)
	if err != nil {
		return err
	}
	pf, err := parsePropfind(body)
	if err != nil {
		return err
	}
	if rq.ifh != nil {
		if err := rq.checkConditions(); err != nil {
			return err
		}
	}
	// A folder is listed without a Stat first: the first page says that it
	// exists and, mostly, what it is. Only an empty first page costs more.
	var (
		e     backends.Entry
		first *backends.Page
		pages iter.Seq2[backends.Page, error]
	)
	if depth != 0 {
		page, all, err := rq.op.Listing(rq.path, depth < 0)
		switch {
		case err == nil:
			first, pages = &page, all
			e = backends.Entry{Path: backendPath(rq.path), IsDir: true}
			if page.Self != nil {
				e = *page.Self
			}
		case errors.Is(err, backends.ErrNotDir):
			depth = 0
		default:
			return err
		}
	}
	if first == nil {
		if e, err = rq.stat(rq.path); err != nil {
			return err
		}
	}
	wantLocks := pf.allprop || pf.propname || containsName(pf.names, davName("lockdiscovery"))
	// Only by name (DAV:include with allprop, too): one state-store query
	// a page that listings otherwise do not pay.
	wantDigests := slices.ContainsFunc(pf.names, isDigestProp)
	now := rq.now()

	var locks []state.Lock
	if wantLocks {
		if locks, err = rq.store.Locks(rq.ctx, rq.path, depth != 0 && e.IsDir, now); err != nil {
			return err
		}
	}
	var dead map[string][]state.Prop
	switch {
	case depth == 0 || !e.IsDir:
		props, err := rq.store.Props(rq.ctx, rq.path)
		if err != nil {
			return err
		}
		dead = map[string][]state.Prop{rq.path: props}
	case depth == 1:
		if dead, err = rq.store.ChildProps(rq.ctx, rq.path); err != nil {
			return err
		}
	}
	spaces := slices.Clone(pf.names)
	if pf.allprop || pf.propname {
		// Any dead property may come, and in Windows' listings its Win32*
		// properties are on every file it saved.
		spaces = append(spaces, win32Modified)
	}
	m := newMSWriter(rq.w, spaces...)
	var sums map[string][32]byte
	digests := func(entries []backends.Entry) error {
		if !wantDigests {
			return nil
		}
		var err error
		sums, err = rq.op.Digests(entries)
		return err
	}
	emit := func(p string, e backends.Entry) {
		res := resource{path: p, entry: e, member: p != rq.path, dead: dead[p]}
		res.sum, res.hasSum = sums[p]
		for _, l := range locks {
			if l.Covers(p) {
				res.locks = append(res.locks, l)
			}
		}
		m.propResponse(href(p, e.IsDir), rq.propstats(res, pf, now))
	}
	if first == nil {
		if err := digests([]backends.Entry{e}); err != nil {
			return err
		}
		emit(rq.path, e)
		return m.close()
	}
	// The next page is fetched while this one is written: the storage's
	// latency and the encoding overlap instead of adding up. Nothing is
	// written before the first page's properties are known, so that a
	// failure there still gets its status.
	var (
		members []resource // the entries of a page (the person may see them all)
		paths   []string
		written int // pages
	)
	for page, err := range pages {
		if err == nil {
			members = members[:0]
			for _, c := range page.Entries {
				members = append(members, resource{path: namespacePath(c.Path), entry: c})
			}
			if depth < 0 {
				// Infinity: the properties of a page in one query, of the
				// folder itself with the first.
				paths = paths[:0]
				if written == 0 {
					paths = append(paths, rq.path)
				}
				for _, r := range members {
					paths = append(paths, r.path)
				}
				dead, err = rq.store.PropsOf(rq.ctx, paths)
			}
			if err == nil {
				err = digests(page.Entries)
			}
		}
		if err != nil {
			if written == 0 {
				return err
			}
			// The status line is sent: end the document where it failed,
			// with no entry of the pages after it, and log.
			rq.log.Error("PROPFIND failed part-way", "path", rq.path, "err", err)
			break
		}
		if written == 0 {
			emit(rq.path, e)
		}
		written++
		for _, r := range members {
			emit(r.path, r.entry)
		}
	}
	return m.close()
}

func containsName(names []xml.Name, n xml.Name) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// propstats builds the propstat elements of one resource.
func (rq *request) propstats(res resource, pf propfind, now time.Time) []webdav.Propstat {
	if pf.propname {
		var ps webdav.Propstat
		ps.Status = http.StatusOK
		for _, n := range liveNames {
			if _, ok := rq.liveProp(res, n, now); ok {
				ps.Props = append(ps.Props, webdav.Property{XMLName: n})
			}
		}
		for _, d := range res.dead {
			ps.Props = append(ps.Props, webdav.Property{XMLName: xml.Name{Space: d.Space, Local: d.Local}})
		}
		return []webdav.Propstat{ps}
	}
	found := webdav.Propstat{Status: http.StatusOK}
	missing := webdav.Propstat{Status: http.StatusNotFound}
	if pf.allprop {
		for _, n := range liveNames {
			if res.member && leftOutOfListing(n, res) {
				continue
			}
			if p, ok := rq.liveProp(res, n, now); ok {
				found.Props = append(found.Props, p)
			}
		}
		for _, d := range res.dead {
			n := xml.Name{Space: d.Space, Local: d.Local}
			if isLive(n) {
				continue
			}
			// getlastmodified carries it already, to the second.
			if _, fromWindows := modified(res); res.member && n == win32Modified && fromWindows {
				continue
			}
			found.Props = append(found.Props, deadProperty(d))
		}
		// DAV:include names live properties that allprop leaves out; all of
		// ours are in it already.
	} else {
		for _, n := range pf.names {
			if p, ok := rq.liveProp(res, n, now); ok {
				found.Props = append(found.Props, p)
				continue
			}
			if d, ok := findDead(res.dead, n); ok {
				found.Props = append(found.Props, deadProperty(d))
				continue
			}
			missing.Props = append(missing.Props, webdav.Property{XMLName: n})
		}
	}
	var out []webdav.Propstat
	if len(found.Props) > 0 || len(missing.Props) == 0 {
		out = append(out, found)
	}
	if len(missing.Props) > 0 {
		out = append(out, missing)
	}
	return out
}

// leftOutOfListing reports whether allprop leaves the live property n out
// of a member of a listing. Windows lists folders with allprop (an empty
// body) and refuses an answer above 1,000,000 bytes, so a member carries
// nothing that the href or its other properties already say, nor what is
// the same for every entry: displayname is the href's last segment,
// getcontenttype comes from its extension, creationdate is the storage's
// modification time under another name (object storage keeps no creation
// time; Windows' own is in Win32CreationTime), supportedlock is the same
// everywhere and given for the listed folder, and an empty lockdiscovery is
// absent. Asked for by name, or with Depth: 0, each is there.
func leftOutOfListing(n xml.Name, res resource) bool {
	switch n.Local {
	case "displayname", "getcontenttype", "creationdate", "supportedlock":
		return true
	case "lockdiscovery":
		return len(res.locks) == 0
	}
	return false
}

// modified is the time a resource shows as last modified: the one Windows
// set with PROPPATCH, which it means to show instead of the upload's, or
// else the storage's.
func modified(res resource) (t time.Time, fromWindows bool) {
	if d, ok := findDead(res.dead, win32Modified); ok {
		if wt, err := http.ParseTime(strings.TrimSpace(string(d.InnerXML))); err == nil {
			return wt, true
		}
	}
	return res.entry.ModTime, false
}

func findDead(dead []state.Prop, n xml.Name) (state.Prop, bool) {
	for _, d := range dead {
		if d.Space == n.Space && d.Local == n.Local {
			return d, true
		}
	}
	return state.Prop{}, false
}

func deadProperty(d state.Prop) webdav.Property {
	return webdav.Property{XMLName: xml.Name{Space: d.Space, Local: d.Local}, Lang: d.Lang, InnerXML: d.InnerXML}
}

// liveProp computes a live property; ok is false when the resource has none
// of that name (a folder has no getcontentlength, for one).
func (rq *request) liveProp(res resource, n xml.Name, now time.Time) (webdav.Property, bool) {
	if isDigestProp(n) {
		if !res.hasSum {
			return webdav.Property{}, false
		}
		return webdav.Property{XMLName: n, InnerXML: digestProp(n, res.sum)}, true
	}
	if n.Space != nsDAV {
		return webdav.Property{}, false
	}
	e := res.entry
	val := ""
	switch n.Local {
	case "resourcetype":
		if e.IsDir {
			val = "<collection/>"
		}
	case "getcontentlength":
		if e.IsDir {
			return webdav.Property{}, false
		}
		val = strconv.FormatInt(e.Size, 10)
	case "getlastmodified":
		t, _ := modified(res)
		if t.IsZero() {
			return webdav.Property{}, false
		}
		val = t.UTC().Format(http.TimeFormat)
	case "creationdate":
		// Object storage records no creation time; the last modification
		// is the closest it knows.
		if e.ModTime.IsZero() {
			return webdav.Property{}, false
		}
		val = e.ModTime.UTC().Format(time.RFC3339)
	case "getetag":
		if e.IsDir || e.ETag == "" {
			return webdav.Property{}, false
		}
		val = xmlText(quoteETag(e.ETag))
	case "getcontenttype":
		if e.IsDir {
			return webdav.Property{}, false
		}
		val = xmlText(e.ContentType)
	case "displayname":
		if res.path == "/" {
			return webdav.Property{}, false
		}
		val = xmlText(e.Name())
	case "quota-available-bytes", "quota-used-bytes":
		// RFC 4331: on folders, and only when asked for by name (never in
		// allprop, which takes its names from liveNames). Only to whom may
		// write there: the Comune's whole usage is not for the holder of a
		// grant on one dossier, who sees the folders above it on the way.
		if rq.opts.Quota == nil || !e.IsDir || !rq.op.MayWrite(res.path) {
			return webdav.Property{}, false
		}
		used, avail, ok := rq.opts.Quota.Quota(res.path)
		if !ok {
			return webdav.Property{}, false
		}
		val = strconv.FormatInt(avail, 10)
		if n.Local == "quota-used-bytes" {
			val = strconv.FormatInt(used, 10)
		}
	case "supportedlock":
		val = supportedLock
	case "lockdiscovery":
		var b strings.Builder
		for _, l := range res.locks {
			b.WriteString(activeLock(l, now))
		}
		val = b.String()
	default:
		return webdav.Property{}, false
	}
	return webdav.Property{XMLName: n, InnerXML: []byte(val)}, true
}

const supportedLock = `<lockentry><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockentry>` +
	`<lockentry><lockscope><shared/></lockscope><locktype><write/></locktype></lockentry>`

// proppatch applies every instruction or none (RFC 4918 section 9.2).
func (rq *request) proppatch() error {
	// The resource and its locks first, as for every change: a missing or
	// locked resource is that, whatever the body says.
	if err := rq.op.PatchProps(rq.path, nil, nil); err != nil {
		return err
	}
	body, err := readXMLBody(rq.r, rq.opts.MaxXMLBody)
	if err != nil {
		return err
	}
	patches, err := parseProppatch(body)
	if err != nil {
		return err
	}
	// Instructions apply in document order: the last one for a name wins.
	var (
		final     = map[state.PropName]*state.Prop{} // nil value: removed
		order     []state.PropName
		protected bool
		all       []webdav.Property
	)
	for _, pp := range patches {
		for _, p := range pp.Props {
			all = append(all, webdav.Property{XMLName: p.XMLName})
			if isLive(p.XMLName) {
				protected = true
				continue
			}
			name := state.PropName{Space: p.XMLName.Space, Local: p.XMLName.Local}
			if _, seen := final[name]; !seen {
				order = append(order, name)
			}
			final[name] = nil
			if !pp.Remove {
				final[name] = &state.Prop{PropName: name, Lang: p.Lang, InnerXML: p.InnerXML}
			}
		}
	}
	var (
		set    []state.Prop
		remove []state.PropName
	)
	for _, name := range order {
		if p := final[name]; p != nil {
			set = append(set, *p)
		} else {
			remove = append(remove, name)
		}
	}
	var pss []webdav.Propstat
	if protected {
		forbidden := webdav.Propstat{Status: http.StatusForbidden, XMLError: `<cannot-modify-protected-property/>`}
		failed := webdav.Propstat{Status: http.StatusFailedDependency}
		for _, p := range all {
			if isLive(p.XMLName) {
				forbidden.Props = append(forbidden.Props, p)
			} else {
				failed.Props = append(failed.Props, p)
			}
		}
		pss = append(pss, forbidden)
		if len(failed.Props) > 0 {
			pss = append(pss, failed)
		}
	} else {
		if err := rq.op.PatchProps(rq.path, set, remove); err != nil {
			return err
		}
		pss = []webdav.Propstat{{Status: http.StatusOK, Props: all}}
	}
	e, _ := rq.stat(rq.path)
	m := newMSWriter(rq.w)
	m.propResponse(href(rq.path, e.IsDir), pss)
	return m.close()
}
