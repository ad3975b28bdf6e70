package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readHidden reads a line from the terminal fd with echo off. Echo goes off
// before prompt runs, unlike term.ReadPassword after a prompt: what is
// typed as soon as the prompt shows is never echoed.
func readHidden(fd int, prompt func()) ([]byte, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	prompt()
	var line []byte
	var b [1]byte
	for len(line) < 4096 {
		n, err := unix.Read(fd, b[:])
		switch {
		case n == 1 && b[0] == '\n':
			return line, nil
		case n == 1:
			line = append(line, b[0])
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return nil, err
		default: // end of input
			return line, nil
		}
	}
	return nil, errors.New("the password is too long")
}
