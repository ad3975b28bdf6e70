package dav

import "io"

// pipeBufs is how many buffers a pipelined copy cycles through: one being
// filled from the storage while the other is written to the client.
const pipeBufs = 2

// copyPipelined copies src to dst with reading and writing overlapped, so
// that a download waits on the storage and on the client at the same time
// instead of in turn. bufs are the buffers it may use; it returns the bytes
// written and the first error of either side.
func copyPipelined(dst io.Writer, src io.Reader, bufs [][]byte) (int64, error) {
	type chunk struct {
		buf []byte
		n   int
	}
	full := make(chan chunk, len(bufs))
	free := make(chan []byte, len(bufs))
	for _, b := range bufs {
		free <- b
	}
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		for {
			select {
			case <-stop: // the client is gone: read no further
				readErr <- nil
				return
			default:
			}
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				readErr <- nil
				return
			}
			n, err := io.ReadFull(src, b)
			if n > 0 {
				full <- chunk{b, n}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				readErr <- nil
				return
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	var written int64
	var werr error
	for c := range full {
		if werr == nil {
			var n int
			n, werr = dst.Write(c.buf[:c.n])
			written += int64(n)
			if werr != nil {
				close(stop)
			}
		}
		free <- c.buf
	}
	if err := <-readErr; err != nil && werr == nil {
		return written, err
	}
	return written, werr
}
