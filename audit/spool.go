package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// The spool is a folder of segments, files named by an increasing sequence
// number that hold one JSON record per line, and a cursor file that says
// how far the log has been shipped: "SEQ OFFSET". Only the newest segment
// is written; a segment behind the cursor is removed. Lines are written
// whole, with one write each, so a kill leaves only whole lines; a torn
// last line (a power loss) is skipped with a log line when it is read.

const (
	segmentSuffix = ".spool"
	cursorName    = "cursor"
	lockName      = "lock"
	// segmentBytes is where a segment ends and the next begins, so that
	// what has been shipped leaves the disk in steps of this size.
	segmentBytes = 4 << 20
)

// cursor is a position in the spool: the next byte to ship.
type cursor struct {
	seq uint64
	off int64
}

func segmentName(seq uint64) string { return fmt.Sprintf("%016d%s", seq, segmentSuffix) }

// segments lists the sequence numbers of the segments in dir, in order.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue // not ours
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

func readCursor(dir string) (cursor, error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorName))
	if errors.Is(err, os.ErrNotExist) {
		return cursor{}, nil
	}
	if err != nil {
		return cursor{}, err
	}
	var c cursor
	if _, err := fmt.Sscanf(string(b), "%d %d", &c.seq, &c.off); err != nil || c.off < 0 {
		return cursor{}, fmt.Errorf("spool cursor %q is not \"SEQ OFFSET\"", b)
	}
	return c, nil
}

// writeCursor replaces the cursor file whole, by rename, so that a kill
// leaves the old position or the new one. It does not sync: a cursor lost
// to a power failure only ships records again, which the store skips by
// their keys.
func writeCursor(dir string, c cursor) error {
	tmp := filepath.Join(dir, cursorName+".tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", c.seq, c.off), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, cursorName))
}

// lockDir takes an exclusive lock on the spool, held while the file stays
// open: two processes shipping one spool would ship it twice over.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("audit spool %s is in use by another process: every replica needs a data_dir of its own", dir)
		}
		return nil, err
	}
	return f, nil
}

// line is a record as the spool and the JSON lines hold it.
type line struct {
	Key         string    `json:"key"`
	Time        time.Time `json:"time"`
	RequestID   string    `json:"request_id"`
	Person      string    `json:"person,omitempty"`
	Credential  string    `json:"credential,omitempty"`
	Client      string    `json:"client"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Target      string    `json:"target,omitempty"`
	Destination string    `json:"destination,omitempty"`
	Comune      string    `json:"comune,omitempty"`
	Status      int       `json:"status"`
	Bytes       int64     `json:"bytes"`
	SHA256      string    `json:"sha256,omitempty"`
}

func toLine(r state.AuditRecord) line {
	return line{r.Key, r.Time, r.RequestID, r.Person, r.Credential, r.Client, r.Method, r.Path, r.Target,
		r.Destination, r.Comune, r.Status, r.Bytes, r.SHA256}
}

func (l line) record() state.AuditRecord {
	return state.AuditRecord{Key: l.Key, Time: l.Time, RequestID: l.RequestID, Person: l.Person,
		Credential: l.Credential, Client: l.Client, Method: l.Method, Path: l.Path, Target: l.Target,
		Destination: l.Destination, Comune: l.Comune, Status: l.Status, Bytes: l.Bytes, SHA256: l.SHA256}
}

// encode returns r as one spool line, newline included.
func encode(r state.AuditRecord) ([]byte, error) {
	b, err := json.Marshal(toLine(r))
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// reader reads whole lines of one segment from an offset.
type reader struct {
	f   *os.File
	seq uint64
	buf []byte
}

// batch reads, from off, the whole lines that fit in max records and
// roughly limit bytes, and returns their records and the offset after the
// last one. A line that does not decode is skipped and reported in bad.
func (rd *reader) batch(off int64, max, limit int) (recs []state.AuditRecord, next int64, bad []int64, err error) {
	if cap(rd.buf) < limit {
		rd.buf = make([]byte, limit)
	}
	n, err := rd.f.ReadAt(rd.buf[:limit], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, off, nil, err
	}
	data := rd.buf[:n]
	next = off
	for len(recs) < max {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		var l line
		if err := json.Unmarshal(data[:i], &l); err != nil || l.Time.IsZero() {
			bad = append(bad, next)
		} else {
			recs = append(recs, l.record())
		}
		data = data[i+1:]
		next += int64(i + 1)
	}
	if next == off && n == limit {
		// One line longer than the buffer: read it alone with room enough.
		rd.buf = make([]byte, 2*limit)
		return rd.batch(off, max, 2*limit)
	}
	return recs, next, bad, nil
}
