package s3

import "syscall"

const lowatSupported = true

// setRcvLowat sets the socket's receive low-water mark to n bytes.
func setRcvLowat(raw syscall.RawConn, n int) error {
	var serr error
	err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
	})
	if err != nil {
		return err
	}
	return serr
}
