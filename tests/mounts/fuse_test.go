package mounts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// requireTools fails the test unless it runs as root with FUSE and every
// named program: the test command installs them, so a missing one is a
// broken machine, not a reason to skip.
func requireTools(t *testing.T, fuse bool, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: tests/run installs it with apt-get (fuse3 rclone davfs2 cadaver)", p)
		}
	}
	if !fuse {
		return
	}
	if os.Geteuid() != 0 {
		t.Fatalf("mounting needs root (running as uid %d): CI runs the test command as root", os.Geteuid())
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		// A container may lack the device node while the kernel has FUSE.
		exec.Command("modprobe", "fuse").Run()
		if _, err := os.Stat("/dev/fuse"); err != nil {
			if out, err := exec.Command("mknod", "-m", "0666", "/dev/fuse", "c", "10", "229").CombinedOutput(); err != nil {
				t.Fatalf("/dev/fuse is missing and cannot be made (mknod: %v %s): the machine must allow FUSE mounts", err, out)
			}
		}
	}
}

// mounted is a WebDAV share mounted through a FUSE client daemon.
type mounted struct {
	t    *testing.T
	kind string
	dir  string
	// settle waits until the client has nothing left to upload; nil when
	// unmounting is enough.
	settle func(timeout time.Duration) error
	// unmount detaches the file system and returns once the daemon has
	// exited, that is has written everything back.
	unmount func(timeout time.Duration) error
	// abort kills the daemon and detaches the mount lazily: any system call
	// blocked on the mount then returns an error.
	abort func()
	log   func() string
	gone  bool
}

// newMounted registers the cleanup that leaves no mount and no daemon
// behind, whatever way the test ends.
func newMounted(t *testing.T, m *mounted) *mounted {
	m.t = t
	t.Cleanup(func() {
		if m.gone {
			return
		}
		if err := m.unmount(60 * time.Second); err != nil {
			t.Errorf("unmounting %s at cleanup: %v", m.kind, err)
			m.abort()
		}
		m.gone = true
	})
	return m
}

// step runs fn, which works on files of the mount, and fails the test if
// it errs or takes longer than timeout. A FUSE call can block for ever when
// a client misbehaves; then the mount is aborted, which makes fn return.
func (m *mounted) step(what string, timeout time.Duration, fn func() error) {
	m.t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			m.t.Fatalf("%s through %s: %v%s", what, m.kind, err, m.logTail())
		}
		m.t.Logf("%s: %s in %v", m.kind, what, time.Since(start).Round(time.Millisecond))
	case <-time.After(timeout):
		m.abort()
		m.gone = true
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
		m.t.Fatalf("%s through %s: not done within %v, mount aborted%s", what, m.kind, timeout, m.logTail())
	}
}

// waitUploads waits until the client has uploaded what it holds back, if
// it holds anything back.
func (m *mounted) waitUploads() {
	m.t.Helper()
	if m.settle == nil {
		return
	}
	start := time.Now()
	if err := m.settle(90 * time.Second); err != nil {
		m.t.Fatalf("%s: waiting for uploads: %v%s", m.kind, err, m.logTail())
	}
	m.t.Logf("%s: uploads done in %v", m.kind, time.Since(start).Round(time.Millisecond))
}

// finish waits for pending uploads and unmounts.
func (m *mounted) finish() {
	m.t.Helper()
	m.waitUploads()
	start := time.Now()
	err := m.unmount(90 * time.Second)
	m.gone = true
	if err != nil {
		m.abort()
		m.t.Fatalf("%s: unmount: %v%s", m.kind, err, m.logTail())
	}
	m.t.Logf("%s: unmount in %v", m.kind, time.Since(start).Round(time.Millisecond))
}

func (m *mounted) logTail() string {
	if m.log == nil {
		return ""
	}
	return "\n--- " + m.kind + " log (tail):\n" + tail(m.log(), 4000)
}

// isMounted tells whether dir is a mount point now, by /proc/self/mountinfo.
func isMounted(dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Field 5 is the mount point, with spaces and such octal-escaped;
		// the test's folders have none.
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}

// waitFor polls cond every 100 ms until it holds, or fails after timeout.
func waitFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// run runs a command with a deadline and returns its combined output.
func run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: %w after %v", name, ctx.Err(), timeout)
	}
	return string(out), err
}

// fuseUnmount detaches dir, retrying while the kernel still finds it busy
// (a file closed a moment ago may not be released yet).
func fuseUnmount(dir string, timeout time.Duration, cmd ...string) error {
	var last error
	err := waitFor(timeout, "unmount "+dir, func() (bool, error) {
		if !isMounted(dir) {
			return true, nil
		}
		out, err := run(30*time.Second, cmd[0], append(cmd[1:], dir)...)
		if err != nil {
			last = fmt.Errorf("%s: %v: %s", strings.Join(cmd, " "), err, strings.TrimSpace(out))
			time.Sleep(400 * time.Millisecond)
			return false, nil
		}
		return !isMounted(dir), nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return err
}

// mountRclone mounts Guastalla at dir with rclone's on-the-fly WebDAV
// remote, trusting the gateway's certificate, with the write cache that
// lets programs open files for writing at random places. Its configuration
// and cache live under work.
func mountRclone(t *testing.T, e *env, dir, work string) *mounted {
	t.Helper()
	obscured, err := run(10*time.Second, "rclone", "obscure", e.g.Pass)
	if err != nil {
		t.Fatalf("rclone obscure: %v %s", err, obscured)
	}
	// The remote control answers vfs/stats: the only exact way to know
	// that the write cache has uploaded everything.
	rcAddr := harness.FreePort(t)
	config := filepath.Join(work, "rclone.conf")
	if err := os.WriteFile(config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("rclone", "mount", ":webdav:/"+comune, dir,
		"--config", config, // not root's own
		"--webdav-url", e.url,
		"--webdav-user", e.g.User,
		"--webdav-pass", strings.TrimSpace(obscured),
		"--webdav-vendor", "other",
		"--ca-cert", e.cert,
		"--vfs-cache-mode", "writes",
		"--vfs-write-back", "1s",
		"--cache-dir", filepath.Join(work, "cache"),
		"--rc", "--rc-addr", rcAddr, "--rc-no-auth",
		"-v")
	var log harness.SyncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("rclone mount: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	hasExited := func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	}
	m := newMounted(t, &mounted{
		kind: "rclone mount",
		dir:  dir,
		log:  log.String,
		settle: func(timeout time.Duration) error {
			return waitFor(timeout, "rclone uploads", func() (bool, error) {
				st, err := rcloneVFSStats(rcAddr)
				if err != nil {
					return false, err
				}
				if st.ErroredFiles > 0 {
					return false, fmt.Errorf("rclone reports %d files it could not upload", st.ErroredFiles)
				}
				return st.UploadsInProgress == 0 && st.UploadsQueued == 0, nil
			})
		},
		unmount: func(timeout time.Duration) error {
			if err := fuseUnmount(dir, timeout, "fusermount3", "-u"); err != nil {
				return err
			}
			select {
			case <-exited:
				return nil
			case <-time.After(timeout):
				return fmt.Errorf("rclone still running %v after unmount", timeout)
			}
		},
		abort: func() {
			cmd.Process.Kill()
			run(10*time.Second, "fusermount3", "-uz", dir)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
			}
		},
	})
	if err := waitFor(30*time.Second, "rclone mount", func() (bool, error) {
		if hasExited() {
			return false, errors.New("rclone exited")
		}
		return isMounted(dir), nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return m
}

// vfsStats is the part of rclone's vfs/stats answer the tests read.
type vfsStats struct {
	UploadsInProgress int `json:"uploadsInProgress"`
	UploadsQueued     int `json:"uploadsQueued"`
	ErroredFiles      int `json:"erroredFiles"`
}

func rcloneVFSStats(addr string) (vfsStats, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://"+addr+"/vfs/stats", "application/json", strings.NewReader("{}"))
	if err != nil {
		return vfsStats{}, fmt.Errorf("rclone rc vfs/stats: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		DiskCache *vfsStats `json:"diskCache"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return vfsStats{}, fmt.Errorf("rclone rc vfs/stats: %w", err)
	}
	if resp.StatusCode != http.StatusOK || body.DiskCache == nil {
		return vfsStats{}, fmt.Errorf("rclone rc vfs/stats: %s, no diskCache", resp.Status)
	}
	return *body.DiskCache, nil
}

// mountDavfs mounts Guastalla at dir with davfs2, configured by a file of
// its own under work: the certificate, locks, immediate uploads, its cache
// and its secrets file.
func mountDavfs(t *testing.T, e *env, dir, work string) *mounted {
	t.Helper()
	url := e.url + "/" + comune + "/"
	// Started by root, mount.davfs soon runs as the davfs2 user: that user
	// reads the certificate and writes the cache, so both live in a folder
	// it can reach. The cache must also pass a check made as root (owned by
	// root or writable by all): writable by all it is.
	openUp(t, work)
	cert := filepath.Join(work, "faldone.pem")
	pem, err := os.ReadFile(e.cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(work, "cache")
	if err := os.Mkdir(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(work, "secrets")
	// The secrets file names the mount point; davfs2 refuses it unless
	// only its owner can read it.
	if err := os.WriteFile(secrets, fmt.Appendf(nil, "%s %s %s\n", dir, e.g.User, e.g.Pass), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(work, "davfs2.conf")
	cfg := fmt.Sprintf(`# Written by the mounts test.
trust_ca_cert %s
secrets %s
cache_dir %s
use_locks 1
delay_upload 0
ask_auth 0
`, cert, secrets, cache)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(60*time.Second, "mount", "-t", "davfs", "-o", "conf="+conf, url, dir); err != nil {
		t.Fatalf("mount -t davfs %s: %v\n%s", url, err, out)
	}
	pid, err := davfsPID(dir)
	if err != nil {
		run(10*time.Second, "umount", "-l", dir)
		t.Fatal(err)
	}
	alive := func() bool { return syscall.Kill(pid, 0) == nil }
	return newMounted(t, &mounted{
		kind: "davfs2",
		dir:  dir,
		unmount: func(timeout time.Duration) error {
			if err := fuseUnmount(dir, timeout, "umount"); err != nil {
				return err
			}
			// umount returns at once; mount.davfs then uploads what is
			// left in its cache and exits.
			return waitFor(timeout, "mount.davfs to exit after umount", func() (bool, error) { return !alive(), nil })
		},
		abort: func() {
			syscall.Kill(pid, syscall.SIGKILL)
			run(10*time.Second, "umount", "-l", dir)
		},
	})
}

// davfsPID reads the pid file mount.davfs writes for a mount point: its
// path with the slashes turned into dashes.
// mount.davfs creates the file before it writes its pid: an empty file is
// read again, for a few seconds at most.
func davfsPID(dir string) (int, error) {
	name := strings.ReplaceAll(strings.TrimPrefix(dir, "/"), "/", "-") + ".pid"
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var b []byte
		if b, err = os.ReadFile(filepath.Join("/var/run/mount.davfs", name)); err != nil {
			continue
		}
		var pid int
		if pid, err = strconv.Atoi(string(bytes.TrimSpace(b))); err == nil {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("davfs2 pid file: %w", err)
}
