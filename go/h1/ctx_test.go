package h1

import (
	"context"
	"testing"
	"time"
)

// AfterFunc's stop unregisters exactly its function, also when called
// after its request ended; cancelling runs the others.
func TestAfterFuncStopIsPerRegistration(t *testing.T) {
	c := &reqCtx{base: context.Background(), c: &conn{}}
	c.begin(false) // body unread: no watcher
	ran := make(chan int, 3)
	stop0 := context.AfterFunc(c, func() { ran <- 0 })
	stop1 := context.AfterFunc(c, func() { ran <- 1 })
	if !stop0() || stop0() {
		t.Fatal("stop must succeed once")
	}
	c.end()
	select {
	case n := <-ran:
		if n != 1 {
			t.Fatalf("ran %d", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the registered function did not run")
	}
	if stop1() {
		t.Fatal("stop of a function that ran reported success")
	}
	c.begin(false)
	context.AfterFunc(c, func() { ran <- 2 })
	if stop1() || stop0() {
		t.Fatal("a stale stop removed a later registration")
	}
	c.end()
	if n := <-ran; n != 2 {
		t.Fatalf("ran %d, want 2", n)
	}
	select {
	case n := <-ran:
		t.Fatalf("%d ran too", n)
	default:
	}
}

// A context derived with context.WithCancel follows the request's end
// through AfterFunc, with no goroutine of its own.
func TestDerivedContextsFollowTheRequest(t *testing.T) {
	c := &reqCtx{base: context.Background(), c: &conn{}}
	c.begin(false)
	child, cancel := context.WithCancel(c)
	defer cancel()
	if child.Err() != nil {
		t.Fatal("child cancelled early")
	}
	c.end()
	select {
	case <-child.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("child not cancelled with the request")
	}
}
