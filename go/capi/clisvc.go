package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/cli"
	"github.com/sgl-project/sglang-router-go/go/config"
)

//export sgl_spec
func sgl_spec() (out *C.char) {
	defer guard(&out)
	return result(map[string]any{"spec": config.NewSpec(), "version": version})
}

//export sgl_config
func sgl_config(configJSON *C.char) (out *C.char) {
	defer guard(&out)
	syncAccessEnv()
	cfg, err := config.Parse([]byte(C.GoString(configJSON)))
	if err != nil {
		return result(errorResult(&app.Error{Class: app.ClassConfig, Err: err}))
	}
	return result(map[string]any{"config": cfg})
}

//export sgl_cli_start
func sgl_cli_start(argvJSON *C.char) (out *C.char) {
	defer guard(&out)
	var argv []string
	if err := json.Unmarshal([]byte(C.GoString(argvJSON)), &argv); err != nil {
		return result(errorResult(fmt.Errorf("%w: argv must be a JSON list of strings: %v", errBadArgs, err)))
	}
	syncAccessEnv()
	return result(map[string]any{"handle": register(startCLI(argv))})
}

// cliService runs one `sglang-router` command line on a goroutine, writing
// to the process's stdout and stderr. Shutdown is Ctrl-C: it cancels the
// command's context and waits for it to return.
type cliService struct {
	cancel context.CancelFunc
	done   chan struct{}
	code   atomic.Int32
}

func startCLI(argv []string) *cliService {
	ctx, cancel := context.WithCancel(context.Background())
	s := &cliService{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "sglang-router: internal error: %v\n", r)
				s.code.Store(1)
			}
		}()
		s.code.Store(int32(cli.Main(ctx, version, argv, os.Stdout, os.Stderr)))
	}()
	return s
}

func (s *cliService) Done() <-chan struct{} { return s.done }
func (s *cliService) Err() error            { return nil }

// ExitCode is the command's exit status once Done is closed.
func (s *cliService) ExitCode() int { return int(s.code.Load()) }

func (s *cliService) Shutdown(ctx context.Context) error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call answers "interrupt": Ctrl-C without releasing the handle, so the
// caller can still wait for the exit status.
func (s *cliService) Call(method string, _ []byte) (any, error) {
	if method == "interrupt" {
		s.cancel()
		return map[string]bool{"ok": true}, nil
	}
	return nil, fmt.Errorf("%w: unknown method %q", errBadArgs, method)
}
