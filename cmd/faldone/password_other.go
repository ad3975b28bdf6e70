//go:build !linux

package main

import "golang.org/x/term"

// readHidden reads a line from the terminal fd with echo off, after prompt.
func readHidden(fd int, prompt func()) ([]byte, error) {
	prompt()
	return term.ReadPassword(fd)
}
