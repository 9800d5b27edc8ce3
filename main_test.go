package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// These tests run the real binary, as an operator would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "boxoffice-bin-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // run by another user in TestServeAsNormalUser
	binary = filepath.Join(dir, "boxoffice")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	defer os.RemoveAll(dir)
	dbtest.Main(m)
}

// dataDir is a BOXOFFICE_DATA_DIR for one test, reachable by the postgres
// user when tests run as root.
func dataDir(t *testing.T) string {
	t.Helper()
	if _, err := embedded.FindServerBinaries(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "boxoffice-data-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() {
		// Whatever happened, leave no server running.
		if pid := postmasterPID(filepath.Join(dir, "pgdata")); pid > 0 {
			syscall.Kill(pid, syscall.SIGQUIT)
			waitExit(pid, 10*time.Second)
		}
		os.RemoveAll(dir)
	})
	return dir
}

// instance is a running boxoffice process.
type instance struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited
	logs   *syncBuffer
}

// syncBuffer collects a process's log while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.exited
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary with env and waits until it says it is running.
func start(t *testing.T, cred *syscall.Credential, env ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), append([]string{"BOXOFFICE_ADDR=" + freeAddr(t)}, env...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, exited: make(chan struct{}), logs: logs}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		in.err = cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(in.kill)
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "Boxoffice is running at ") {
			t.Fatalf("did not start: %q\n%s", line, logs)
		}
		in.url = strings.TrimPrefix(line, "Boxoffice is running at ")
	case <-time.After(2 * time.Minute):
		t.Fatalf("not running after 2 minutes\n%s", logs)
	}
	go func() {
		for range lines {
		}
	}()
	return in
}

func (in *instance) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(in.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, in.logs)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
		if in.err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", in.err, in.logs)
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after SIGTERM\n%s", in.logs)
	}
}

func postmasterPID(pgdata string) int {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	return pid
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

func waitExit(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// serverProcesses lists the PostgreSQL processes working on pgdata.
func serverProcesses(t *testing.T, pgdata string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), pgdata) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// eventCount is how many events a search for everything finds.
func eventCount(t *testing.T, in *instance) int {
	t.Helper()
	code, body := in.get(t, "/api/v1/search?per_page=1")
	var found struct{ Total int }
	if err := json.Unmarshal([]byte(body), &found); code != http.StatusOK || err != nil || found.Total == 0 {
		t.Fatalf("search for everything: %d %v %.200s", code, err, body)
	}
	return found.Total
}

func TestServeStartsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	in := start(t, nil, "BOXOFFICE_DATA_DIR="+dir, "BOXOFFICE_DEMO_DATA=false")
	if code, _ := in.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d\n%s", code, in.logs)
	}
	if code, body := in.get(t, "/"); code != http.StatusOK || !strings.Contains(body, "No upcoming events") {
		t.Fatalf("GET / = %d on an empty catalogue", code)
	}
	pgdata := filepath.Join(dir, "pgdata")
	postmaster := postmasterPID(pgdata)
	if postmaster == 0 || len(serverProcesses(t, pgdata)) == 0 {
		t.Fatal("no PostgreSQL running for the data directory")
	}

	in.stop(t)
	if !waitExit(postmaster, 5*time.Second) {
		t.Fatalf("PostgreSQL (pid %d) still running after Boxoffice exited", postmaster)
	}
	if left := serverProcesses(t, pgdata); len(left) > 0 {
		t.Fatalf("PostgreSQL processes left behind: %v", left)
	}
}

func TestServeAfterKill9(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := []string{"BOXOFFICE_DATA_DIR=" + dir}
	first := start(t, nil, env...) // seeds the demo catalogue
	_, home := first.get(t, "/")
	if !strings.Contains(home, `data-testid="event-card"`) {
		t.Fatal("first start shows no events")
	}
	events := eventCount(t, first)
	pgdata := filepath.Join(dir, "pgdata")
	postmaster := postmasterPID(pgdata)
	first.kill()

	second := start(t, nil, env...)
	if code, _ := second.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after kill -9 = %d\n%s", code, second.logs)
	}
	if _, again := second.get(t, "/"); again != home {
		t.Error("home page differs after kill -9 and restart: data lost or seeded twice")
	}
	if n := eventCount(t, second); n != events {
		t.Errorf("%d events after kill -9 and restart, %d before: data lost or seeded twice", n, events)
	}
	if p := postmasterPID(pgdata); p != postmaster || !alive(p) {
		t.Errorf("second start did not adopt the PostgreSQL left running (pid %d): now pid %d", postmaster, p)
	}

	// Now the server dies with Boxoffice: the next start recovers it.
	second.kill()
	syscall.Kill(postmaster, syscall.SIGKILL)
	if !waitExit(postmaster, 10*time.Second) {
		t.Fatalf("PostgreSQL (pid %d) still running 10 s after SIGKILL", postmaster)
	}

	third := start(t, nil, env...)
	if _, again := third.get(t, "/"); again != home {
		t.Error("home page differs after PostgreSQL was killed too")
	}
	third.stop(t)
	if left := serverProcesses(t, pgdata); len(left) > 0 {
		t.Fatalf("PostgreSQL processes left behind: %v", left)
	}
}

// TestServeAsNormalUser runs the binary as an unprivileged user, when the
// tests run as root (as root, every other test covers the root path).
func TestServeAsNormalUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("tests run as a normal user already; this one needs root to switch user")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir := dataDir(t)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	in := start(t, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
		"BOXOFFICE_DATA_DIR="+dir, "BOXOFFICE_DEMO_DATA=false", "HOME="+dir)
	if code, _ := in.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d\n%s", code, in.logs)
	}
	pid := postmasterPID(filepath.Join(dir, "pgdata"))
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), fmt.Sprintf("\nUid:\t%d\t", uid)) {
		t.Errorf("PostgreSQL does not run as %s (uid %d)", u.Username, uid)
	}
	in.stop(t)
}

func TestServeWithDatabaseURL(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t, false) // empty: serve must migrate it
	dir := filepath.Join(t.TempDir(), "unused")
	in := start(t, nil, "DATABASE_URL="+url, "BOXOFFICE_DATA_DIR="+dir, "BOXOFFICE_DEMO_DATA=false")
	if code, _ := in.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d\n%s", code, in.logs)
	}
	in.stop(t)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("with DATABASE_URL set, a data directory was created: %v", err)
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t, false)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boxoffice %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	files, _ := filepath.Glob("db/migrations/*.sql")
	newest := filepath.Base(files[len(files)-1])
	if out := run("migrate", "status"); strings.Count(out, "pending") != len(files) {
		t.Errorf("status of an empty database:\n%s", out)
	}
	if out := run("migrate", "up"); strings.Count(out, "OK") != len(files) {
		t.Errorf("up:\n%s", out)
	}
	if out := run("migrate", "up"); !strings.Contains(out, "nothing to apply") {
		t.Errorf("second up:\n%s", out)
	}
	if out := run("migrate", "down"); !strings.Contains(out, newest) {
		t.Errorf("down:\n%s", out)
	}
	if out := run("migrate", "status"); strings.Count(out, "pending") != 1 {
		t.Errorf("status after down:\n%s", out)
	}

	cmd := exec.Command(binary, "migrate", "sideways")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "usage: boxoffice migrate up|down|status") {
		t.Errorf("migrate sideways: %v\n%s", err, out)
	}
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env, want string
	}{
		{"BOXOFFICE_HOLD_TTL=ten minutes", "BOXOFFICE_HOLD_TTL must be a duration"},
		{"BOXOFFICE_HOLD_TTL=5s", "--hold-ttl must be at least 1m"},
		{"BOXOFFICE_MAX_TICKETS=0", "--max-tickets must be between 1 and 100"},
		{"BOXOFFICE_DEMO_DATA=maybe", "BOXOFFICE_DEMO_DATA must be true or false"},
		{"STRIPE_SECRET_KEY=sk_test_123", "STRIPE_WEBHOOK_SECRET is needed"},
		{"BOXOFFICE_BOOKING_RATE=fast", "BOXOFFICE_BOOKING_RATE: rate \"fast\": write it as N/min"},
		{"BOXOFFICE_SEARCH_RATE=NaN/min", "is not a positive number"},
		{"BOXOFFICE_SEARCH_RATE=60/min,0", "burst \"0\" is not a positive whole number"},
		{"BOXOFFICE_SIGNUP_RATE=lots", "BOXOFFICE_SIGNUP_RATE: rate \"lots\""},
		{"BOXOFFICE_MONITOR_INTERVAL=0s", "--monitor-interval must be at least 1s"},
	} {
		name, value, _ := strings.Cut(c.env, "=")
		env := map[string]string{name: value}
		if name == "STRIPE_SECRET_KEY" {
			env["STRIPE_PUBLISHABLE_KEY"] = "pk_test_123"
		}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		_, _, err := parseWith("serve", nil, lookup, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to say %q", c.env, err, c.want)
		}
	}
	// A live secret key needs the card form's key, and the test is the
	// parser's, so that the binary need not run.
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}[k]
		return v, ok
	}
	if _, _, err := parseWith("serve", nil, lookup, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "STRIPE_PUBLISHABLE_KEY is needed") {
		t.Errorf("live keys without a publishable key: %v", err)
	}
	// The binary says the same on its way out.
	cmd := exec.CommandContext(context.Background(), binary, "serve")
	cmd.Env = append(os.Environ(), "BOXOFFICE_HOLD_TTL=5s", "BOXOFFICE_DATA_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--hold-ttl must be at least 1m") {
		t.Errorf("the binary with a bad setting: %v %q", err, out)
	}
}

// The first admin comes from the command line, password on stdin (never
// a flag); then organisers are made the same way, and the account can
// sign in with its new role.
func TestUsersCommands(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t, false)
	users := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"users"}, args...)...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := users("correct horse battery\n", "create", "--email", "boss@example.com", "--role", "admin", "--name", "The Boss"); err != nil || !strings.Contains(out, "boss@example.com (account 1) is an admin") {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"create", "--email", "a@example.com", "--role", "organiser"}, "at least 8 characters"},
		{"", []string{"create", "--email", "a@example.com", "--role", "organiser"}, "give the password on stdin"},
		{"correct horse battery\n", []string{"create", "--email", "boss@example.com", "--role", "fan"}, "already an account for boss@example.com"},
		{"correct horse battery\n", []string{"create", "--email", "a@example.com", "--role", "king"}, `There is no role "king"`},
		{"", []string{"role", "--email", "nobody@example.com", "--role", "organiser"}, "There is no account for nobody@example.com"},
		{"", []string{"role", "--email", "boss@example.com"}, "needs --email and --role"},
		{"", []string{"promote"}, "usage: boxoffice users create|role"},
	} {
		if out, err := users(c.stdin, c.args...); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("users %v: %v\n%s\nwant %q", c.args, err, out, c.want)
		}
	}
	if out, err := users("", "role", "--email", "BOSS@example.com", "--role", "organiser"); err != nil || !strings.Contains(out, "is an organiser") {
		t.Errorf("users role: %v\n%s", err, out)
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var role string
	var logged int
	dbtest.QueryRow(t, pool, `SELECT role, (SELECT count(*) FROM audit_log WHERE action = 'user.role' AND subject = 'boss@example.com') FROM users WHERE email = 'boss@example.com'`).Scan(&role, &logged)
	if role != "organiser" || logged != 2 {
		t.Errorf("boss is %s with %d role changes logged, want organiser and 2 (admin, then organiser)", role, logged)
	}
}
