package embedded_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// clusterDir is a directory the server user can reach even when tests run
// as root (t.TempDir's folders are closed to other users).
func clusterDir(t *testing.T) string {
	t.Helper()
	if _, err := embedded.FindServerBinaries(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "boxoffice-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startCluster(t *testing.T, dir string) *embedded.Cluster {
	t.Helper()
	c, err := embedded.Start(context.Background(), dir, dbtest.Logger(), "fsync=off")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func connect(t *testing.T, c *embedded.Cluster) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func TestClusterStartsOnSocketOnly(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := startCluster(t, dir)
	conn := connect(t, c)

	var listen string
	if err := conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want empty (no TCP port)", listen)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), ".s.PGSQL.5432")); err != nil {
		t.Errorf("socket not inside the data directory: %v", err)
	}

	// The server refuses root; as root it must run as the postgres user.
	uid := processUID(t, c.PID())
	if os.Geteuid() == 0 {
		if uid == 0 {
			t.Fatal("postgres runs as root")
		}
		fi, err := os.Stat(c.DataDir())
		if err != nil {
			t.Fatal(err)
		}
		if owner := int(fi.Sys().(*syscall.Stat_t).Uid); owner != uid {
			t.Errorf("PGDATA owned by uid %d, server runs as uid %d", owner, uid)
		}
	} else if uid != os.Geteuid() {
		t.Errorf("postgres runs as uid %d, want ours (%d)", uid, os.Geteuid())
	}
}

func TestClusterSecondProcessIsRefused(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	startCluster(t, dir)
	_, err := embedded.Start(context.Background(), dir, dbtest.Logger())
	if err == nil || !strings.Contains(err.Error(), "in use by another Boxoffice process") {
		t.Fatalf("second StartCluster on the same directory: err = %v, want 'in use'", err)
	}
}

func TestClusterStopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := startCluster(t, dir)
	pid := c.PID()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("postgres (pid %d) still running after Stop", pid)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid left behind: %v", err)
	}
}

// TestClusterSurvivesKill9 kills the process that owns the cluster, as a
// crash of Boxoffice would, then the server itself, and checks that each
// time the next start carries on with the same data.
func TestClusterSurvivesKill9(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)

	// A separate process starts the cluster, writes a row, and is killed.
	first := runHelper(t, dir)

	// Boxoffice died, the server did not: the next start adopts it.
	second := runHelper(t, dir)
	if second != first {
		syscall.Kill(first, syscall.SIGQUIT)
		t.Fatalf("started a new server (pid %d) instead of adopting the running one (pid %d)", second, first)
	}

	// Now the server dies too, leaving a stale postmaster.pid behind.
	if err := syscall.Kill(second, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, second)
	c := startCluster(t, dir)
	if c.PID() == second {
		t.Fatal("adopted a dead server")
	}
	assertRow(t, c, "written before the crash")
}

// runHelper runs TestClusterHelperProcess on dir, kills it with SIGKILL once
// it has written its row, and returns the postmaster pid it reported.
func runHelper(t *testing.T, dir string) int {
	t.Helper()
	helper := exec.Command(os.Args[0], "-test.run=^TestClusterHelperProcess$")
	helper.Env = append(os.Environ(), "BOXOFFICE_CLUSTER_HELPER_DIR="+dir)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Wait()
	defer helper.Process.Signal(syscall.SIGKILL)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		t.Fatalf("helper did not get ready: %q, %v", line, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestClusterHelperProcess is the process TestClusterSurvivesKill9 kills.
func TestClusterHelperProcess(t *testing.T) {
	dir := os.Getenv("BOXOFFICE_CLUSTER_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestClusterSurvivesKill9")
	}
	ctx := context.Background()
	c, err := embedded.Start(ctx, dir, dbtest.Logger(), "fsync=off")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS marker (note text);
		INSERT INTO marker SELECT 'written before the crash' WHERE NOT EXISTS (SELECT FROM marker)`); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %d\n", c.PID())
	time.Sleep(time.Minute) // until killed
}

func assertRow(t *testing.T, c *embedded.Cluster, want string) {
	t.Helper()
	var got string
	if err := connect(t, c).QueryRow(context.Background(), "SELECT note FROM marker").Scan(&got); err != nil {
		t.Fatalf("data from before the crash: %v", err)
	}
	if got != want {
		t.Fatalf("marker = %q, want %q", got, want)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processUID reads the real uid of pid from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}

// TestClusterOfAnotherMajorVersion: a data directory made by another major
// version of PostgreSQL is not started (which would fail half-way), but
// refused before anything runs, with the pg_upgrade command to run.
func TestClusterOfAnotherMajorVersion(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := startCluster(t, dir)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	versionFile := filepath.Join(c.DataDir(), "PG_VERSION")
	installed, err := os.ReadFile(versionFile)
	if err != nil {
		t.Fatal(err)
	}
	old := "9" // no machine has both this and a current server
	if err := os.WriteFile(versionFile, []byte(old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err = embedded.Start(context.Background(), dir, dbtest.Logger())
	var verr *embedded.VersionError
	if !errors.As(err, &verr) {
		t.Fatalf("start on a cluster of PostgreSQL %s: err = %v, want a VersionError", old, err)
	}
	if verr.Cluster != old || verr.Server != strings.TrimSpace(string(installed)) {
		t.Errorf("error names versions %s and %s, want %s and %s", verr.Cluster, verr.Server, old, installed)
	}
	for _, want := range []string{"pg_upgrade -b", "-d " + c.DataDir(), "boxoffice backup", "Nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("a server was started on it: %v", err)
	}
	if b, _ := os.ReadFile(versionFile); strings.TrimSpace(string(b)) != old {
		t.Errorf("PG_VERSION changed to %q", b)
	}
}
