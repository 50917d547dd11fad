package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/sgl-project/sglang-router-go/go/config"
)

func main() {} // required by -buildmode=c-shared; never runs

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// result marshals v into a C string the caller frees with sgl_free.
func result(v any) *C.char {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(errorResult(fmt.Errorf("encoding result: %w", err)))
	}
	return C.CString(string(data))
}

// guard turns a panic into an "internal" error result: a Go panic inside the
// library must never kill the host process.
func guard(out **C.char) {
	if r := recover(); r != nil {
		*out = result(map[string]any{"error": map[string]string{
			"class": "internal", "message": fmt.Sprintf("panic in sglang_router: %v\n%s", r, debug.Stack()),
		}})
	}
}

//export sgl_router_start
func sgl_router_start(configJSON *C.char) (out *C.char) {
	defer guard(&out)
	syncAccessEnv()
	return result(startRouter([]byte(C.GoString(configJSON))))
}

// syncAccessEnv makes the access-key variables Python set visible to
// config.Parse and config.ParseArgs; every export that reads a
// configuration calls it first.
func syncAccessEnv() { syncEnv(config.EnvAdminAPIKey, config.EnvClientAPIKeys) }

// syncEnv copies variables from the C environment into Go's view of it. Go
// reads the environment once, when the library is loaded, and Python may
// set os.environ later (putenv changes the C environment only).
func syncEnv(names ...string) {
	for _, name := range names {
		cname := C.CString(name)
		v := C.getenv(cname)
		C.free(unsafe.Pointer(cname))
		if v == nil {
			_ = os.Unsetenv(name)
		} else {
			_ = os.Setenv(name, C.GoString(v))
		}
	}
}

//export sgl_sim_start
func sgl_sim_start(configJSON *C.char) (out *C.char) {
	defer guard(&out)
	return result(startSim([]byte(C.GoString(configJSON))))
}

//export sgl_wait
func sgl_wait(handle C.longlong, timeoutMs C.int) (out *C.char) {
	defer guard(&out)
	return result(waitService(int64(handle), time.Duration(timeoutMs)*time.Millisecond))
}

//export sgl_stop
func sgl_stop(handle C.longlong, graceMs C.int) (out *C.char) {
	defer guard(&out)
	return result(stopService(int64(handle), time.Duration(graceMs)*time.Millisecond))
}

//export sgl_call
func sgl_call(handle C.longlong, method *C.char, argsJSON *C.char) (out *C.char) {
	defer guard(&out)
	return result(callService(int64(handle), C.GoString(method), []byte(C.GoString(argsJSON))))
}

//export sgl_version
func sgl_version() (out *C.char) {
	defer guard(&out)
	return result(map[string]string{"version": version})
}

//export sgl_free
func sgl_free(p *C.char) {
	defer func() { _ = recover() }()
	C.free(unsafe.Pointer(p))
}
