package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server the benchmark started as a child process: nginx or the
// router. Its CPU is read from /proc, for the process and its children.
type proc struct {
	name string
	url  string // base URL, no trailing slash
	cmd  *exec.Cmd
	pids []int
}

// cpu is the CPU time the process (and its children) used so far.
func (p *proc) cpu() time.Duration { return cpuOf(p.pids) }

// stop kills the process and its children, and waits for it. The process
// leads its own process group (startProc), which is killed whole: nginx's
// workers outlive a killed master, and went on holding the benchmark's
// ports and every file it inherited (a lock held around the benchmark,
// say) until someone killed them by hand.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = p.cmd.Process.Kill()
	}
	_ = p.cmd.Wait()
}

// command is exec.Command in a process group of its own (see stop).
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// startProc runs name args with its output in dir/<label>.log and waits
// until GET url+ready answers 200.
func startProc(ctx context.Context, dir, label, url, ready string, name string, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(dir, label+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", label, err)
	}
	p := &proc{name: label, url: url, cmd: cmd}
	if err := waitReady(ctx, url+ready); err != nil {
		p.stop()
		log, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%s did not start: %v\n%s", label, err, log)
	}
	p.pids = append([]int{cmd.Process.Pid}, childrenOf(cmd.Process.Pid)...)
	return p, nil
}

// waitReady polls url until it answers 200, for at most 10 seconds.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRouterProc runs the router binary in front of workers with policy;
// label names its log.
func startRouterProc(ctx context.Context, bin, dir, label, policy string, workers []string) (*proc, error) {
	port, mport := freePort(), freePort()
	args := append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--prometheus-port", strconv.Itoa(mport),
		"--policy", policy, "--worker-urls"}, workers...)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	return startProc(ctx, dir, label, url, "/readiness", bin, args...)
}

// nginxConf is a reverse proxy with keep-alive connections to the workers,
// as a production deployment would configure it: request bodies buffered
// in memory (a 400 KB prompt never touches the disk), answers relayed as
// they arrive (proxy_buffering off, as SSE needs), no access log.
const nginxConf = `worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  client_max_body_size 16m;
  client_body_buffer_size 1m;
  upstream workers {
%[2]s    keepalive 128;
  }
  server {
    listen 127.0.0.1:%[3]d;
    location = /nginx-ready { return 200; }
    location / {
      proxy_pass http://workers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`

// startNginx runs Debian's nginx as a round-robin reverse proxy to workers.
func startNginx(ctx context.Context, dir string, workers []string) (*proc, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return nil, err
		}
		bin = "/usr/sbin/nginx"
	}
	var servers strings.Builder
	for _, w := range workers {
		fmt.Fprintf(&servers, "    server %s;\n", strings.TrimPrefix(w, "http://"))
	}
	port := freePort()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, servers.String(), port), 0o644); err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	return startProc(ctx, dir, "nginx", url, "/nginx-ready", bin, "-p", dir, "-c", conf)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
