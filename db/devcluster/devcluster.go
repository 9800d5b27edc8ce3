// Package devcluster starts on one machine what a scaled-out Boxoffice
// runs on: a PostgreSQL primary and a streaming replica (the local server
// binaries), PgBouncer in transaction pooling and nginx (Debian's
// packages), and several Boxoffice instances behind nginx, wired as
// deploy/ and the README's "Scaling out" say. `boxoffice dev cluster`
// runs it; the scale-out test kills parts of it.
package devcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/boxoffice/boxoffice/db/embedded"
)

// Config says what to start.
type Config struct {
	Dir       string   // everything lives here; made if missing
	Instances int      // Boxoffice processes behind nginx
	Binary    string   // the boxoffice binary they run
	Port      int      // nginx's port; 0: a free one
	Env       []string // more settings for every instance
	Log       *slog.Logger
}

// Cluster is the running whole.
type Cluster struct {
	URL       string // nginx, where fans go
	Primary   *embedded.Cluster
	Replica   *embedded.Cluster
	Bouncer   string // PgBouncer's address
	Instances []*Process
	nginx     *Process
	pgbouncer *Process
	dir       string
}

// Process is one process the cluster started.
type Process struct {
	Name   string
	Addr   string // where it listens
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *os.File
	env    []string // how it was started, for Restart
	path   string
	args   []string
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

func (p *Process) stop(timeout time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.Kill()
	}
}

// Start starts everything, in order, and returns once the instances are
// ready behind nginx. On error it stops what it started.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.Instances < 1 {
		return nil, errors.New("at least one instance")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	if c.Primary, err = embedded.Start(ctx, filepath.Join(dir, "primary"), cfg.Log); err != nil {
		return c, fmt.Errorf("primary: %w", err)
	}
	if err = c.Primary.CreateDatabase(ctx, "boxoffice"); err != nil {
		return c, err
	}
	// PgBouncer cannot pass on the setting every Boxoffice connection asks
	// for (deploy/pgbouncer.ini): the database holds it instead.
	if err = c.Primary.Exec(ctx, "boxoffice", "ALTER DATABASE boxoffice SET max_parallel_workers_per_gather = 0"); err != nil {
		return c, err
	}
	if c.Replica, err = embedded.StartReplica(ctx, filepath.Join(dir, "replica"), c.Primary.URL("boxoffice"), cfg.Log); err != nil {
		return c, fmt.Errorf("replica: %w", err)
	}
	if c.pgbouncer, err = c.startPgBouncer(); err != nil {
		return c, err
	}
	c.Bouncer = c.pgbouncer.Addr
	env := append([]string{
		"DATABASE_URL=postgres://boxoffice@" + c.Bouncer + "/boxoffice?sslmode=disable&default_query_exec_mode=exec",
		"DATABASE_SESSION_URL=" + c.Primary.URL("boxoffice"),
		"DATABASE_READ_URL=" + socketURI(c.Replica.DataDir()),
		"BOXOFFICE_TRUST_PROXY=true",
		"BOXOFFICE_LOG_FORMAT=json",
	}, cfg.Env...)
	for i := range cfg.Instances {
		addr, err := freeAddr()
		if err != nil {
			return c, err
		}
		// Its own slice, kept for Restart. The first loads the demo
		// catalogue; the others find it.
		ienv := append(slices.Clip(env), "BOXOFFICE_ADDR="+addr)
		if i > 0 {
			ienv = append(ienv, "BOXOFFICE_DEMO_DATA=false")
		}
		p, err := c.start(fmt.Sprintf("boxoffice-%d", i+1), addr, ienv, cfg.Binary, "serve")
		if err != nil {
			return c, err
		}
		c.Instances = append(c.Instances, p)
		if err := waitReady(ctx, p, "http://"+addr+"/readyz", 3*time.Minute); err != nil {
			return c, err
		}
	}
	if c.nginx, err = c.startNginx(cfg.Port); err != nil {
		return c, err
	}
	c.URL = "http://" + c.nginx.Addr
	if err := waitReady(ctx, c.nginx, c.URL+"/readyz", 30*time.Second); err != nil {
		return c, err
	}
	return c, nil
}

// socketURI is a postgres:// URL for the server whose socket is in dir,
// as DATABASE_READ_URL takes a comma-separated list of them.
func socketURI(dir string) string {
	return "postgres://boxoffice@/boxoffice?sslmode=disable&host=" + strings.ReplaceAll(dir, "/", "%2F")
}

// Stop stops everything, the balancer first and the primary last.
func (c *Cluster) Stop() {
	if c.nginx != nil {
		c.nginx.stop(10 * time.Second)
	}
	for _, p := range c.Instances {
		p.stop(40 * time.Second)
	}
	if c.pgbouncer != nil {
		c.pgbouncer.stop(10 * time.Second)
	}
	if c.Replica != nil {
		_ = c.Replica.Stop()
	}
	if c.Primary != nil {
		_ = c.Primary.Stop()
	}
}

// start runs a process with its output in a log file of its own, in a
// process group of its own (a Ctrl-C reaches only us, who stop it).
func (c *Cluster) start(name, addr string, env []string, path string, args ...string) (*Process, error) {
	logs, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p, err := c.run(name, addr, cmd, logs)
	if p != nil {
		p.env, p.path, p.args = env, path, args
	}
	return p, err
}

// Restart stops instance i as systemd would (SIGTERM: it finishes what
// is under way), starts it again on the same address, and returns once it
// is ready: one step of a rolling restart.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	old := c.Instances[i]
	old.stop(60 * time.Second)
	p, err := c.start(old.Name, old.Addr, old.env, old.path, old.args...)
	if err != nil {
		return err
	}
	c.Instances[i] = p
	return waitReady(ctx, p, "http://"+p.Addr+"/readyz", 3*time.Minute)
}

func (c *Cluster) run(name, addr string, cmd *exec.Cmd, logs *os.File) (*Process, error) {
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, Addr: addr, cmd: cmd, exited: make(chan struct{}), logs: logs}
	go func() { _ = cmd.Wait(); logs.Close(); close(p.exited) }()
	return p, nil
}

// startPgBouncer runs PgBouncer in transaction pooling in front of the
// primary's socket, as the server's user when we are root (it refuses
// root).
func (c *Cluster) startPgBouncer() (*Process, error) {
	path, err := findTool("pgbouncer", "/usr/sbin/pgbouncer")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	ini := filepath.Join(c.dir, "pgbouncer.ini")
	config := fmt.Sprintf(`[databases]
boxoffice = host=%s port=5432 dbname=boxoffice user=boxoffice

[pgbouncer]
listen_addr = %s
listen_port = %s
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
ignore_startup_parameters = max_parallel_workers_per_gather,extra_float_digits
`, c.Primary.DataDir(), host, port)
	if err := os.WriteFile(ini, []byte(config), 0o644); err != nil {
		return nil, err
	}
	logs, err := os.OpenFile(filepath.Join(c.dir, "pgbouncer.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, ini)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		u, err := user.Lookup(embedded.ServerUserName)
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	p, err := c.run("pgbouncer", addr, cmd, logs)
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return p, fmt.Errorf("pgbouncer exited while starting: %s", p.tail())
		default:
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("pgbouncer did not start; see %s", filepath.Join(c.dir, "pgbouncer.log"))
		}
	}
}

// startNginx runs nginx in front of the instances, configured as
// deploy/nginx.conf is.
func (c *Cluster) startNginx(port int) (*Process, error) {
	path, err := findTool("nginx", "/usr/sbin/nginx")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if port == 0 {
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	prefix := filepath.Join(c.dir, "nginx")
	for _, d := range []string{"", "temp", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o777); err != nil {
			return nil, err
		}
		_ = os.Chmod(filepath.Join(prefix, d), 0o777) // the workers' user writes there
	}
	var servers strings.Builder
	for _, p := range c.Instances {
		fmt.Fprintf(&servers, "        server %s max_fails=0;\n", p.Addr)
	}
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s/temp/body;
    proxy_temp_path %[1]s/temp/proxy;
    fastcgi_temp_path %[1]s/temp/fastcgi;
    uwsgi_temp_path %[1]s/temp/uwsgi;
    scgi_temp_path %[1]s/temp/scgi;
    upstream boxoffice {
        least_conn;
%[2]s        keepalive 64;
        keepalive_timeout 4s;
    }
    server {
        listen %[3]s;
        location ~ ^/api/v1/events/[0-9]+/stream$ {
            proxy_pass http://boxoffice;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout http_502 http_503;
        }
        location / {
            proxy_pass http://boxoffice;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            client_max_body_size 32m;
        }
    }
}
`, prefix, servers.String(), addr)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return c.start("nginx", addr, nil, path, "-p", prefix, "-c", confPath, "-g", "daemon off;")
}

func findTool(name, fallback string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback, nil
	}
	return "", fmt.Errorf("%s is not installed (apt-get install %s)", name, name)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls url until it answers 200, p exits, or timeout passes.
func waitReady(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(timeout); ; {
		if res, err := client.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited while starting: %s", p.Name, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", p.Name, timeout)
		}
	}
}

// tail is the end of the process's log.
func (p *Process) tail() string {
	b, err := os.ReadFile(p.logs.Name())
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
