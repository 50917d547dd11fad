// Package rawio reads and writes TCP sockets without telling the Go
// scheduler that a system call is under way.
//
// net.Conn's Read and Write enter every system call through
// entersyscall/exitsyscall. A write to a loopback or LAN peer runs the
// peer's receive path inside the call (tens of microseconds), long enough
// for the runtime's monitor thread (sysmon) to take the goroutine's P
// away and hand it to another thread: a wake-up, a thread switch and a
// futex per such call, and a monitor that keeps polling every 20 µs
// because it keeps finding work. Sockets in Go are non-blocking, so a
// read or write never waits in the kernel: when it would (EAGAIN), the
// goroutine parks in the netpoller as net.Conn's would, through the
// connection's syscall.RawConn. Deadlines, closing and the netpoller's
// wake-ups are net.Conn's own.
//
// Conn's Read and Write each serve one caller at a time; a second caller
// arriving while one is under way goes through net.Conn's own method.
// Under the race detector the calls go through package syscall (see
// sys_race.go), so the rest of Conn is tested by the race runs too.
package rawio
