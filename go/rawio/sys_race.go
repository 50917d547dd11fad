//go:build linux && race

package rawio

import "syscall"

// Under the race detector the calls go through package syscall, whose
// Read and Write tell the detector that a write to a socket happens
// before the read of its bytes (a raw call would not, and a test that
// reads what a handler stored after its answer arrived would be reported
// as a race). Everything else in Conn is the same in both builds.

func sysRead(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return uintptr(max(n, 0)), errno(err)
}

func sysWrite(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return uintptr(max(n, 0)), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
