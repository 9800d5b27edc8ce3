package db_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// serverDir is a directory the server user can reach when tests run as
// root.
func serverDir(t *testing.T) string {
	t.Helper()
	if _, err := embedded.FindServerBinaries(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "boxoffice-reads-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestReadsFollowTheReplica runs a primary and a real streaming replica:
// reads go to the replica while it keeps up, to the primary while it is
// too far behind (replay paused while the primary writes) or stopped, and
// back to the replica when it has caught up.
func TestReadsFollowTheReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	primary, err := embedded.Start(ctx, serverDir(t), quiet, "fsync=off")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	replica, err := embedded.StartReplica(ctx, serverDir(t), primary.URL("postgres"), quiet, "fsync=off")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		replica.Stop()
		if t.Failed() {
			for _, c := range []*embedded.Cluster{primary, replica} {
				b, _ := os.ReadFile(c.LogPath())
				t.Logf("%s:\n%s", c.LogPath(), b)
			}
		}
	})
	pool := func(url string) *pgxpool.Pool {
		p, err := db.NewPool(ctx, url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	onPrimary, onReplica := pool(primary.URL("postgres")), pool(replica.URL("postgres"))
	if _, err := onPrimary.Exec(ctx, "CREATE TABLE tick (n int); INSERT INTO tick VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	reads, err := db.NewReads(ctx, onPrimary, replica.URL("postgres"), time.Second, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reads.Close)
	watchCtx, stopWatching := context.WithCancel(ctx)
	t.Cleanup(stopWatching)
	go reads.Watch(watchCtx, 50*time.Millisecond)

	// Where reads go now; a read that fails counts as neither (a replica
	// that just stopped, before the watcher has seen it).
	onReplicaNow := func() bool {
		var r bool
		return reads.Pool().QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r) == nil && r
	}
	onPrimaryNow := func() bool {
		var r bool
		return reads.Pool().QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r) == nil && !r
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("not within a minute: %s; replicas: %+v", what, reads.Replicas())
			}
		}
	}
	until("reads go to the replica", onReplicaNow)
	until("the replica has replayed the table", func() bool {
		var n int
		return onReplica.QueryRow(ctx, "SELECT count(*) FROM tick").Scan(&n) == nil && n == 1
	})

	// Replay stops while the primary goes on writing: the replica falls
	// behind, and reads move to the primary.
	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	writing, stopWriting := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for writing.Err() == nil {
			onPrimary.Exec(writing, "UPDATE tick SET n = n + 1")
			time.Sleep(10 * time.Millisecond)
		}
	}()
	until("reads leave a replica more than a second behind", onPrimaryNow)
	if s := reads.Replicas()[0]; s.InUse || s.Lag <= time.Second {
		t.Errorf("replica state while behind: %+v", s)
	}
	stopWriting()
	<-done
	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	until("reads come back once it has caught up", onReplicaNow)

	// Cut off from the primary, a replica has replayed all it received,
	// which says nothing of what it did not: it is skipped until it
	// streams again.
	var conninfo string
	if err := onReplica.QueryRow(ctx, "SHOW primary_conninfo").Scan(&conninfo); err != nil {
		t.Fatal(err)
	}
	setConninfo := func(v string) {
		t.Helper()
		if _, err := onReplica.Exec(ctx, "ALTER SYSTEM SET primary_conninfo = "+quoteLiteral(v)); err != nil {
			t.Fatal(err)
		}
		if _, err := onReplica.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
			t.Fatal(err)
		}
	}
	setConninfo("host=/nonexistent user=boxoffice")
	until("reads leave a replica that does not stream", onPrimaryNow)
	setConninfo(conninfo)
	until("reads come back once it streams again", onReplicaNow)

	// Stopped: reads go to the primary, and nothing fails.
	if err := replica.Stop(); err != nil {
		t.Fatal(err)
	}
	until("reads leave a stopped replica", onPrimaryNow)
	if s := reads.Replicas()[0]; s.Err == nil {
		t.Errorf("a stopped replica shows no error: %+v", s)
	}
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
