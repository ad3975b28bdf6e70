//go:build !linux

package s3

import (
	"errors"
	"syscall"
)

// The low-water mark is used on Linux only, where its effect on epoll is
// known.
const lowatSupported = false

func setRcvLowat(syscall.RawConn, int) error { return errors.ErrUnsupported }
