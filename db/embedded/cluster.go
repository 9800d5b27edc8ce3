// Package embedded runs the PostgreSQL server Boxoffice keeps for itself
// when no DATABASE_URL is given: it creates the cluster, starts and adopts
// the server process, starts it again when it dies, and stops it. It is a
// process supervisor, kept apart from package db's data access so that
// the modules that use the database do not import one.
package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server that Boxoffice runs itself, in a directory of
// its own, reachable only through a Unix socket inside that directory. It lets
// the binary start on a laptop with nothing configured: no port to collide
// with, no password, and the data survives restarts and crashes.
//
// Layout of Dir:
//
//	boxoffice.lock   held (flock) by the Boxoffice process using the cluster
//	postgres.log     the server's log
//	pgdata/          PGDATA; also the socket directory
type Cluster struct {
	Dir    string // BOXOFFICE_DATA_DIR, absolute
	BinDir string // where initdb and postgres live

	log   *slog.Logger
	opts  Options
	lock  *os.File
	owner *osUser // nil unless we run the server as another user (we are root)

	mu              sync.Mutex // guards what the supervisor changes while others read it
	pid             int        // postmaster pid
	exited          chan struct{}
	stopped         bool
	stopSupervising func()
}

// superuser is the bootstrap role initdb creates; it is independent of the OS
// user so that connection strings are the same on every machine.
const superuser = "boxoffice"

// maxSocketPath is the longest Unix socket path the kernel accepts (sun_path
// is 108 bytes on Linux, 104 on macOS), minus the terminating NUL.
const maxSocketPath = 103

// Options are what a run of the cluster adds to its defaults.
type Options struct {
	// Settings are extra server settings ("fsync=off") for this run.
	Settings []string
	// WALArchive, when set, is a directory where every completed segment
	// of the write-ahead log is copied (PostgreSQL's basic_archive module:
	// written to a temporary name, flushed, then renamed), so that a base
	// backup plus the archive recover to any moment since.
	WALArchive string
	// Version is the PostgreSQL major version a new cluster is for (a
	// restore's backup's); empty: the newest installed.
	Version string
}

// Start creates the cluster in dir on first use, or finds the one a
// previous run left (still running after a crash, or stopped with a stale
// lock file), and returns once it accepts connections.
//
// Settings are extra server settings ("fsync=off") for this run.
func Start(ctx context.Context, dir string, log *slog.Logger, settings ...string) (*Cluster, error) {
	return Open(ctx, dir, log, Options{Settings: settings})
}

// Open is Start with options.
func Open(ctx context.Context, dir string, log *slog.Logger, opts Options) (*Cluster, error) {
	c, err := prepare(dir, log, opts, false)
	if err != nil {
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		c.unlock()
		return nil, err
	}
	if err := c.checkArchive(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// prepare finds the server binaries for dir, takes dir's lock, and
// readies the directories. Nothing is changed before the lock is ours: a
// command run beside a live site must not touch its files. On error it
// holds nothing.
func prepare(dir string, log *slog.Logger, opts Options, restoring bool) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %q: %w", dir, err)
	}
	c := &Cluster{Dir: dir, log: log, opts: opts}
	if len(c.socketPath()) > maxSocketPath {
		return nil, fmt.Errorf("data directory %q is too long for a Unix socket path (%d bytes, at most %d); choose a shorter BOXOFFICE_DATA_DIR",
			dir, len(c.socketPath()), maxSocketPath)
	}
	if c.BinDir, err = binariesFor(c.DataDir(), opts.Version); err != nil {
		return nil, err
	}
	if c.owner, err = serverUser(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := c.takeLock(); err != nil {
		return nil, err
	}
	if err := c.prepareLocked(restoring); err != nil {
		c.unlock()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) prepareLocked(restoring bool) error {
	if err := c.prepareDir(); err != nil {
		return err
	}
	if c.opts.WALArchive == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(c.Dir, DrillMarker)); err == nil {
		return fmt.Errorf("%s was restored as a drill (boxoffice restore --drill): it must not write into the WAL archive of the live site; start it without BOXOFFICE_WAL_ARCHIVE", c.Dir)
	}
	var err error
	if c.opts.WALArchive, err = filepath.Abs(c.opts.WALArchive); err != nil {
		return err
	}
	if restoring {
		// Recovery reads the archive: one that is not there is a typo,
		// which must not pass for an archive with nothing to replay.
		entries, err := os.ReadDir(c.opts.WALArchive)
		if err != nil || len(entries) == 0 {
			return fmt.Errorf("the WAL archive %s is missing or empty; give the one the site archived to (BOXOFFICE_WAL_ARCHIVE)", c.opts.WALArchive)
		}
		return nil
	}
	return c.prepareArchive()
}

// DrillMarker, in a data directory, marks a cluster restored as a drill,
// which may never write into the live site's WAL archive.
const DrillMarker = "restore-drill"

// ErrNotEmpty means a restore was asked into a data directory that holds a
// cluster already.
var ErrNotEmpty = errors.New("holds a database already")

// Claim takes dir for a restore: it locks it, so that no Boxoffice starts
// there meanwhile, and checks that it holds no cluster. It refuses a
// directory a running Boxoffice uses (an *InUseError) and one that holds a
// database (ErrNotEmpty): a restore never overwrites data. The caller
// fills PGDATA, then calls Recover, then Stop (or Abandon on failure).
func Claim(dir string, log *slog.Logger, opts Options) (*Cluster, error) {
	c, err := prepare(dir, log, opts, true)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(c.DataDir(), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		c.unlock()
		return nil, err
	}
	entries, err := os.ReadDir(c.DataDir())
	if err != nil {
		c.unlock()
		return nil, err
	}
	if len(entries) > 0 {
		c.unlock()
		return nil, fmt.Errorf("%s %w (%d entries); restore into an empty data directory, or move this one aside first", c.DataDir(), ErrNotEmpty, len(entries))
	}
	return c, nil
}

// Abandon ends a restore that failed: it stops the server, empties PGDATA
// again, and only then releases the data directory, so that nothing can
// start on a half-restored cluster.
func (c *Cluster) Abandon() error {
	if err := c.shutdown(); err != nil {
		return err
	}
	if err := c.emptyDataDir(); err != nil {
		return err
	}
	return c.Stop()
}

// RecoveryTarget is how a restored cluster recovers.
type RecoveryTarget struct {
	Until time.Time // zero: to the end of the archive
	// Drill writes nothing into the archive: the restored cluster is a
	// copy for a test, beside the live site, and is marked so that it is
	// never started with the archive.
	Drill bool
}

// Recovered is where a recovery ended.
type Recovered struct {
	LSN         string     // the last write-ahead log record replayed
	LastCommit  *time.Time // the last transaction replayed committed then; nil if none
	Timeline    int        // the timeline it recovered along
	NewTimeline int        // the timeline it continues on
}

// Recover starts the cluster a restore has filled, lets it replay the
// write-ahead log from c's archive (when there is one) up to target, and
// returns once it has finished recovery and accepts writes. It always ends
// on a new timeline, so that what the restored cluster writes never takes
// the names of segments archived before. The caller then Stops it.
func (c *Cluster) Recover(ctx context.Context, target RecoveryTarget) (Recovered, error) {
	var r Recovered
	if c.owner != nil {
		if err := chownAll(c.DataDir(), c.owner); err != nil {
			return r, err
		}
	}
	// Without an archive, recovery replays what the backup holds and then
	// ends ("false" finds no more log).
	restore := "false"
	if dir := c.opts.WALArchive; dir != "" {
		if strings.ContainsAny(dir, "'\\") {
			return r, fmt.Errorf("the WAL archive's path %q has a quote or backslash, which restore_command cannot carry; move it", dir)
		}
		restore = "cp '" + strings.ReplaceAll(dir, "%", "%%") + "'/%f %p"
	} else if !target.Until.IsZero() {
		return r, errors.New("recovering to a moment needs the WAL archive (BOXOFFICE_WAL_ARCHIVE)")
	}
	c.opts.Settings = append(c.opts.Settings, "restore_command="+restore, "recovery_target_action=promote")
	if !target.Until.IsZero() {
		c.opts.Settings = append(c.opts.Settings, "recovery_target_time="+target.Until.UTC().Format("2006-01-02 15:04:05.999999")+"+00")
	}
	if target.Drill {
		// A drill reads the archive and writes nothing there: the branch
		// it makes must not be one a later recovery could follow.
		c.opts.Settings = append(c.opts.Settings, "archive_mode=off")
		if err := os.WriteFile(filepath.Join(c.Dir, DrillMarker), []byte("restored as a drill: never start this cluster with the live WAL archive\n"), 0o644); err != nil {
			return r, err
		}
	}
	signal := filepath.Join(c.DataDir(), "recovery.signal")
	if err := os.WriteFile(signal, nil, 0o600); err != nil {
		return r, err
	}
	if c.owner != nil {
		if err := os.Chown(signal, int(c.owner.UID), int(c.owner.GID)); err != nil {
			return r, err
		}
	}
	if err := c.start(ctx); err != nil {
		return r, fmt.Errorf("%w\n%s", err, c.logTail(10))
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return r, err
	}
	defer conn.Close(ctx)
	for {
		var inRecovery bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
			if !c.running() {
				return r, fmt.Errorf("postgres stopped during recovery:\n%s", c.logTail(10))
			}
			return r, err
		}
		if !inRecovery {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Both stay as they were at the end of recovery.
	if err := conn.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp(),
			(SELECT timeline_id FROM pg_control_checkpoint())`).Scan(&r.LSN, &r.LastCommit, &r.NewTimeline); err != nil {
		return r, err
	}
	r.Timeline = r.NewTimeline - 1
	if h, err := os.ReadFile(filepath.Join(c.DataDir(), "pg_wal", fmt.Sprintf("%08X.history", r.NewTimeline))); err == nil {
		// Its last line names the timeline it branched from.
		lines := strings.Split(strings.TrimSpace(string(h)), "\n")
		if f := strings.Fields(lines[len(lines)-1]); len(f) > 0 {
			r.Timeline, _ = strconv.Atoi(f[0])
		}
	}
	return r, nil
}

// CheckArchive looks over the archived segments a recovery from the
// backup starting at segment fromWAL will read, on its timeline: each must
// be whole (16 MB) and readable by the server, and none may be missing
// between the first and the last. Recovery itself takes any segment it
// cannot copy for the end of the archive, and would stop there, silently.
func (c *Cluster) CheckArchive(fromWAL string) error {
	dir := c.opts.WALArchive
	if dir == "" || len(fromWAL) != 24 {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	segno := func(name string) uint64 {
		hi, _ := strconv.ParseUint(name[8:16], 16, 32)
		lo, _ := strconv.ParseUint(name[16:24], 16, 32)
		return hi<<8 | lo
	}
	var prev string
	for _, e := range entries { // sorted by name: by timeline, then in order
		name := e.Name()
		if len(name) != 24 || name[:8] != fromWAL[:8] || name < fromWAL || strings.Trim(name, "0123456789ABCDEF") != "" {
			continue
		}
		if prev != "" && segno(name) != segno(prev)+1 {
			return fmt.Errorf("the WAL archive %s lacks the segments between %s and %s: recovery would stop at the gap", dir, prev, name)
		}
		prev = name
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Size() != 16<<20 {
			return fmt.Errorf("archived segment %s is %d bytes, not 16 MB: it was cut short (copied back in part?)", filepath.Join(dir, name), info.Size())
		}
		if !c.canRead(info) {
			return fmt.Errorf("archived segment %s cannot be read by the server (mode %v); fix its owner or mode", filepath.Join(dir, name), info.Mode().Perm())
		}
	}
	return nil
}

// canRead tells whether the server's user may read a file.
func (c *Cluster) canRead(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	if c.owner != nil {
		uid, gid = c.owner.UID, c.owner.GID
	}
	mode := info.Mode().Perm()
	switch {
	case uid == 0:
		return true
	case st.Uid == uid:
		return mode&0o400 != 0
	case st.Gid == gid:
		return mode&0o040 != 0
	}
	return mode&0o004 != 0
}

// archiveOwner is the file in a WAL archive naming the cluster that
// archives there: two clusters in one archive would take each other's
// segment names.
const archiveOwner = "boxoffice-cluster"

// checkArchive makes sure the archive belongs to this cluster, marking it
// as ours on first use.
func (c *Cluster) checkArchive(ctx context.Context) error {
	if c.opts.WALArchive == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var id string
	if err := conn.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&id); err != nil {
		return err
	}
	return ClaimArchive(c.opts.WALArchive, id)
}

// ClaimArchive checks that the WAL archive in dir belongs to the cluster
// with system identifier id, marking it so when it belongs to none yet.
func ClaimArchive(dir, id string) error {
	path := filepath.Join(dir, archiveOwner)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(path, []byte(id+"\n"), 0o644)
	}
	if err != nil {
		return err
	}
	if owner := strings.TrimSpace(string(b)); owner != id {
		return fmt.Errorf("the WAL archive %s belongs to another database (system identifier %s; this one is %s): give each database its own archive", dir, owner, id)
	}
	return nil
}

// prepareArchive makes the WAL archive directory, writable by the server.
func (c *Cluster) prepareArchive() error {
	dir := c.opts.WALArchive
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the WAL archive %s: %w", dir, err)
	}
	if c.owner == nil {
		return nil
	}
	if err := ensureTraversable(dir, c.owner); err != nil {
		return err
	}
	return os.Chown(dir, int(c.owner.UID), int(c.owner.GID))
}

// DataDir is PGDATA.
func (c *Cluster) DataDir() string { return filepath.Join(c.Dir, "pgdata") }

// LogPath is the server's log file.
func (c *Cluster) LogPath() string { return filepath.Join(c.Dir, "postgres.log") }

func (c *Cluster) socketPath() string { return filepath.Join(c.DataDir(), ".s.PGSQL.5432") }

// PID is the postmaster's process id.
func (c *Cluster) PID() int {
	pid, _ := c.process()
	return pid
}

// process is the server process: its pid, and a channel closed when it
// exits (nil for one adopted from a previous run, which is not our child).
func (c *Cluster) process() (int, chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid, c.exited
}

func (c *Cluster) setProcess(pid int, exited chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pid, c.exited = pid, exited
}

// URL is the connection string for database name on this cluster.
func (c *Cluster) URL(database string) string {
	return socketURL(c.DataDir(), database)
}

// RunningURL is the connection string for database on the cluster that a
// running Boxoffice keeps in dir, for commands run beside it (backup,
// status). It fails when no Boxoffice runs there.
func RunningURL(dir, database string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	c := &Cluster{Dir: dir}
	var inUse *InUseError
	if _, err := os.Stat(filepath.Join(dir, "boxoffice.lock")); err != nil {
		return "", fmt.Errorf("no Boxoffice is running on %s", dir)
	}
	if err := c.takeLock(); !errors.As(err, &inUse) {
		c.unlock()
		return "", fmt.Errorf("no Boxoffice is running on %s", dir)
	}
	return c.URL(database), nil
}

func socketURL(pgdata, database string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", quoteDSN(pgdata), superuser, database)
}

func quoteDSN(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func (c *Cluster) prepareDir() error {
	if c.owner == nil {
		return nil
	}
	// The server runs as another user, who must be able to walk down to PGDATA.
	if err := ensureTraversable(c.Dir, c.owner); err != nil {
		return err
	}
	pgdata := c.DataDir()
	if err := os.Mkdir(pgdata, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", pgdata, err)
	}
	// A cluster of another account (the site runs as its own user) is not
	// ours to hand to the server user.
	if fi, err := os.Stat(pgdata); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && st.Uid != c.owner.UID {
			return fmt.Errorf("%s belongs to uid %d, who runs this Boxoffice; run the command as that user (sudo -u …), not as root", pgdata, st.Uid)
		}
	}
	return chownTree(pgdata, c.owner)
}

// takeLock makes sure only one Boxoffice process manages the cluster: the one
// that stops the server on exit must be the only one using it.
func (c *Cluster) takeLock() error {
	f, err := os.OpenFile(filepath.Join(c.Dir, "boxoffice.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return &InUseError{Dir: c.Dir, PID: strings.TrimSpace(string(holder))}
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

// InUseError means another Boxoffice process runs the cluster in Dir.
type InUseError struct {
	Dir string
	PID string // as the lock file says
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another Boxoffice process (pid %s); stop it, choose another BOXOFFICE_DATA_DIR, or share one database through DATABASE_URL",
		e.Dir, e.PID)
}

func (c *Cluster) unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

func (c *Cluster) start(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}

	// A previous run that was killed leaves its server running; use it.
	if pid, ok := c.runningPostmaster(); ok {
		c.log.Info("found running postgres left by a previous run", "pid", pid, "dir", c.DataDir())
		c.setProcess(pid, nil)
		if err := c.waitReady(ctx, 60*time.Second); err != nil {
			return fmt.Errorf("postgres (pid %d) is running in %s but does not accept connections: %w", pid, c.DataDir(), err)
		}
		return nil
	}

	logFile, err := os.OpenFile(c.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	args := []string{
		"-D", c.DataDir(),
		"-k", c.DataDir(),
		"-c", "listen_addresses=",
		"-c", "unix_socket_permissions=0700",
	}
	for _, s := range c.settings() {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(c.BinDir, "postgres"), args...)
	cmd.Dir = c.DataDir()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = serverEnv()
	// Its own process group: a Ctrl-C in the terminal must reach Boxoffice
	// only, which then finishes requests before it stops the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.owner.credential()}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{}) // this process's, whatever c.exited is later
	c.setProcess(cmd.Process.Pid, exited)
	go func() { _ = cmd.Wait(); close(exited) }()
	c.log.Info("started postgres", "pid", cmd.Process.Pid, "dir", c.DataDir(), "log", c.LogPath())

	if err := c.waitReady(ctx, 5*time.Minute); err != nil {
		_ = c.shutdown()
		return fmt.Errorf("postgres did not become ready: %w\n%s", err, c.logTail(20))
	}
	return nil
}

// recoverySettings bound the time the server takes to come back after a
// crash. It replays the write-ahead log written since the last finished
// checkpoint began; with PostgreSQL's defaults (a checkpoint every 5
// minutes or 1 GB of log) that was 15 s of a busy start, 18 s of replay.
// A checkpoint at least every minute and every 256 MB of log keeps the
// replay to a few seconds at the worst moment (README, "Recovery time").
// Checkpoints every 30 s, spread over half the interval, cost a quarter
// of an on-sale's holds/s on this kind of machine; these cost nothing
// measurable.
var recoverySettings = []string{
	"checkpoint_timeout=60s",
	"max_wal_size=256MB",
	"min_wal_size=64MB",
	"checkpoint_completion_target=0.9",
}

// settings are the server settings of this run: ours, then the archive's,
// then the caller's (which win).
func (c *Cluster) settings() []string {
	s := append([]string{}, recoverySettings...)
	if dir := c.opts.WALArchive; dir != "" {
		s = append(s,
			"archive_mode=on",
			"archive_library=basic_archive",
			"basic_archive.archive_directory="+dir,
			// A quiet site still closes its segment within 5 minutes, so
			// the archive is never further behind; each forced switch
			// costs a 16 MB file, which is why not more often.
			"archive_timeout=5min",
		)
	}
	return append(s, c.opts.Settings...)
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("creating postgres cluster", "dir", c.DataDir())
	run := func(locale ...string) ([]byte, error) {
		args := append([]string{
			"-D", c.DataDir(),
			"-U", superuser,
			"-E", "UTF8",
			"--auth-local=trust", // the socket sits in a 0700 directory: only its owner gets there
			"--auth-host=reject", // and the server does not listen on TCP at all
		}, locale...)
		cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"), args...)
		cmd.Dir = c.Dir
		cmd.Env = serverEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner.credential()}
		return cmd.CombinedOutput()
	}
	// C.UTF-8 sorts like C (fast, stable) but classifies non-ASCII letters
	// correctly, which text search needs; some systems lack it.
	out, err := run("--lc-collate=C", "--lc-ctype=C.UTF-8", "--lc-messages=C")
	if err != nil {
		if err := c.emptyDataDir(); err != nil {
			return err
		}
		out, err = run("--no-locale")
	}
	if err != nil {
		_ = c.emptyDataDir()
		return fmt.Errorf("initdb failed: %w\n%s", err, out)
	}
	return nil
}

// emptyDataDir removes what a failed initdb left so the next attempt starts
// clean, keeping the directory itself (and its owner).
func (c *Cluster) emptyDataDir() error {
	entries, err := os.ReadDir(c.DataDir())
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(c.DataDir(), e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// runningPostmaster reports the pid in postmaster.pid when that process is
// alive and is a postgres server. A lock file naming a dead process (or a pid
// since reused by something else) is removed, so the server starts cleanly.
func (c *Cluster) runningPostmaster() (int, bool) {
	pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
	f, err := os.Open(pidFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if processAlive(pid) && isPostgres(pid) {
		return pid, true
	}
	c.log.Info("removing stale postmaster.pid", "pid", pid)
	_ = os.Remove(pidFile)
	return 0, false
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isPostgres tells whether pid runs a postgres binary. Where /proc is missing
// (macOS) we trust the pid file: postgres checks it again on start.
func isPostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return !isDir("/proc/self")
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	pid, exited := c.process()
	for {
		select {
		case <-exited:
			return fmt.Errorf("postgres exited during start-up")
		default:
		}
		if exited == nil && !processAlive(pid) {
			return fmt.Errorf("postgres (pid %d) exited", pid)
		}
		pingCtx, cancelPing := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pingCtx, c.URL("postgres"))
		if err == nil {
			conn.Close(pingCtx)
			cancelPing()
			return nil
		}
		cancelPing()
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Supervise starts the server again whenever it is found dead (killed by
// hand or by the kernel's OOM killer, or crashed), checking every interval,
// until Stop. The server recovers from its write-ahead log as after any
// crash; meanwhile requests get 503s and /readyz says not ready.
func (c *Cluster) Supervise(interval time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || c.stopSupervising != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.stopSupervising = func() { cancel(); <-done }
	go func() { defer close(done); c.supervise(ctx, interval) }()
}

func (c *Cluster) supervise(ctx context.Context, interval time.Duration) {
	wait := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if c.running() {
			wait = interval
			continue
		}
		c.log.Error("postgres is not running; starting it again", "pid", c.PID())
		if err := c.start(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			// Most often its old backends still hold shared memory for a
			// moment: try again, less and less often.
			wait = min(2*wait, 30*time.Second)
			c.log.Error("start postgres again", "err", err, "next_try_in", wait)
			continue
		}
		c.log.Info("postgres is back", "pid", c.PID())
	}
}

// running reports whether the server is alive: the one we started, or
// the one we adopted from a previous run.
func (c *Cluster) running() bool {
	pid, exited := c.process()
	if exited != nil {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	return processAlive(pid) && isPostgres(pid)
}

// Exec runs sql on database, for set-up.
func (c *Cluster) Exec(ctx context.Context, database, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL(database))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// CreateDatabase creates database name unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Stop stops supervising, shuts the server down ("fast" mode: open
// sessions are ended, committed data is on disk) and waits for it to exit,
// then releases the data directory.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	stopSupervising := c.stopSupervising
	c.mu.Unlock()
	if stopSupervising != nil {
		stopSupervising() // before the server stops, or it would start it again
	}
	defer c.unlock()
	return c.shutdown()
}

// shutdown stops the server process, keeping the data directory's lock.
func (c *Cluster) shutdown() error {
	pid, exited := c.process()
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop postgres (pid %d): %w", pid, err)
	}
	if waitExit(pid, exited, 60*time.Second) {
		c.log.Info("stopped postgres", "pid", pid)
		return nil
	}
	// Immediate shutdown: the server recovers from WAL on its next start.
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	if waitExit(pid, exited, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("postgres (pid %d) did not stop", pid)
}

// waitExit waits for the server process to end: through exited when it is
// our child, else by polling.
func waitExit(pid int, exited chan struct{}, timeout time.Duration) bool {
	deadline := time.After(timeout)
	if exited != nil {
		select {
		case <-exited:
			return true
		case <-deadline:
			return false
		}
	}
	for processAlive(pid) && isPostgres(pid) {
		select {
		case <-deadline:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

func (c *Cluster) logTail(n int) string {
	b, err := os.ReadFile(c.LogPath())
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serverEnv is the environment for server processes: the caller's minus
// variables that would redirect them (PGDATA, PGHOST and friends).
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// StartReplica makes dir a streaming replica of the cluster at primary (a
// connection string allowed to replicate) on first use, copying it with
// pg_basebackup, and starts it: a read-only server that replays the
// primary's log as it is written. A later start finds the replica there
// and starts it again.
func StartReplica(ctx context.Context, dir, primary string, log *slog.Logger, settings ...string) (*Cluster, error) {
	c, err := prepare(dir, log, Options{Settings: settings}, false)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		out, err := exec.CommandContext(ctx, filepath.Join(c.BinDir, "pg_basebackup"), "-d", primary, "-D", c.DataDir(),
			"-X", "stream", "-c", "fast", "-R").CombinedOutput()
		if err != nil {
			_ = c.emptyDataDir()
			c.unlock()
			return nil, fmt.Errorf("copy the primary for a replica: %w: %s", err, out)
		}
		// The copy holds the primary's socket lock; ours goes in its place.
		matches, _ := filepath.Glob(filepath.Join(c.DataDir(), ".s.PGSQL.*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
		if c.owner != nil {
			if err := chownAll(c.DataDir(), c.owner); err != nil {
				c.unlock()
				return nil, err
			}
		}
	}
	if err := c.start(ctx); err != nil {
		c.unlock()
		return nil, err
	}
	return c, nil
}
