// Package backup takes and restores copies of Boxoffice's database.
//
// A backup is a physical base backup made by pg_basebackup, the tool that
// comes with the server: it copies the running cluster without stopping
// or locking anything (sales go on), and with the write-ahead log written
// meanwhile (-X stream) the copy is consistent on its own. Unlike a
// logical dump (pg_dump) it is also the starting point that archived
// write-ahead log replays onto, which is what recovers to a moment
// (point-in-time recovery); and it restores by copying files, not by
// rebuilding every index, which is what makes a restore fast.
//
// Each backup is a directory named by its start time:
//
//	20261201T210400Z/
//	    boxoffice-backup.json  our manifest (Manifest), written last
//	    backup_manifest        PostgreSQL's, with a SHA-256 of every file
//	    PG_VERSION, base/, global/, pg_wal/, …
//
// A directory without boxoffice-backup.json is not a backup (one being
// taken, or one a crash cut short); List ignores it and Prune removes it
// once it is a day old.
package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db/embedded"
)

// ManifestName is the file that makes a directory a finished backup.
const ManifestName = "boxoffice-backup.json"

// Manifest describes a backup: what it holds and how to check it.
type Manifest struct {
	Format     int       `json:"format"` // 1
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"` // the copy is consistent as of here
	PostgreSQL string    `json:"postgresql"`
	SystemID   string    `json:"system_identifier"` // the cluster it came from
	Schema     int64     `json:"schema_version"`    // Boxoffice's migration
	Timeline   int       `json:"timeline"`
	StartLSN   string    `json:"start_lsn"`
	EndLSN     string    `json:"end_lsn"`
	// StartWAL is the first write-ahead log file the backup needs: older
	// archived files serve only older backups.
	StartWAL string `json:"start_wal"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	// ManifestSHA256 is the SHA-256 of backup_manifest, which holds the
	// SHA-256 of every other file: one checksum covers the whole backup.
	ManifestSHA256 string `json:"backup_manifest_sha256"`
}

// Backup is a finished backup in Dir.
type Backup struct {
	Dir string
	Manifest
}

// Tools are the PostgreSQL client programs a backup runs.
type Tools struct {
	BinDir string // holds pg_basebackup, pg_verifybackup, pg_archivecleanup
}

func (t Tools) path(name string) string {
	if t.BinDir == "" {
		return name
	}
	return filepath.Join(t.BinDir, name)
}

// Take makes a backup of the database behind pool, reached for copying by
// the libpq connection string conn (a role allowed to replicate), into a
// new directory under to. progress, when not nil, receives
// pg_basebackup's progress lines.
func Take(ctx context.Context, t Tools, pool *pgxpool.Pool, conn string, to string, progress io.Writer) (Backup, error) {
	var m Manifest
	m.Format = 1
	m.Started = time.Now().UTC()
	if err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), (SELECT system_identifier::text FROM pg_control_system()),
			coalesce((SELECT max(version_id) FROM goose_db_version WHERE is_applied), 0)`).Scan(&m.PostgreSQL, &m.SystemID, &m.Schema); err != nil {
		return Backup{}, fmt.Errorf("read the database's versions: %w", err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return Backup{}, fmt.Errorf("create the backup directory: %w", err)
	}
	name := m.Started.Format("20060102T150405Z")
	final := filepath.Join(to, name)
	if _, err := os.Stat(final); err == nil {
		return Backup{}, fmt.Errorf("%s exists already: one backup a second at most", final)
	}
	// Made here, exclusively: another backup started in the same second
	// (the schedule and a command) fails instead of sharing it.
	partial := final + ".partial"
	if err := os.Mkdir(partial, 0o700); err != nil {
		return Backup{}, fmt.Errorf("start backup %s: %w", partial, err)
	}

	args := []string{"-d", conn, "-D", partial, "-F", "plain", "-X", "stream", "-c", "fast",
		"--manifest-checksums=SHA256", "-l", "boxoffice " + name}
	if progress != nil {
		args = append(args, "-P", "-v")
	}
	cmd := exec.CommandContext(ctx, t.path("pg_basebackup"), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&stderr, progress)
	}
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, fmt.Errorf("pg_basebackup: %w: %s", err, lastLines(stderr.String(), 5))
	}
	m.Finished = time.Now().UTC()
	if err := m.readFrom(partial); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, err
	}
	b := Backup{Dir: partial, Manifest: m}
	if err := Verify(ctx, t, b); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, fmt.Errorf("the backup just taken does not check out: %w", err)
	}
	if err := writeFileSync(filepath.Join(partial, ManifestName), m); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, err
	}
	if err := syncDir(partial); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, err
	}
	if err := os.Rename(partial, final); err != nil {
		_ = os.RemoveAll(partial)
		return Backup{}, err
	}
	if err := syncDir(to); err != nil {
		return Backup{}, err
	}
	b.Dir = final
	return b, nil
}

// readFrom fills in what pg_basebackup wrote into dir: where the backup
// starts and ends in the log, and the checksum of its manifest.
func (m *Manifest) readFrom(dir string) error {
	label, err := os.ReadFile(filepath.Join(dir, "backup_label"))
	if err != nil {
		return fmt.Errorf("read backup_label: %w", err)
	}
	for _, line := range strings.Split(string(label), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "START WAL LOCATION": // 0/9000028 (file 000000010000000000000009)
			f := strings.Fields(v)
			if len(f) == 3 {
				m.StartLSN, m.StartWAL = f[0], strings.TrimSuffix(f[2], ")")
			}
		case "START TIMELINE":
			m.Timeline, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "backup_manifest"))
	if err != nil {
		return fmt.Errorf("read backup_manifest: %w", err)
	}
	sum := sha256.Sum256(raw)
	m.ManifestSHA256 = hex.EncodeToString(sum[:])
	var pm struct {
		Files []struct {
			Size int64 `json:"Size"`
		} `json:"Files"`
		WALRanges []struct {
			EndLSN string `json:"End-LSN"`
		} `json:"WAL-Ranges"`
	}
	if err := json.Unmarshal(raw, &pm); err != nil {
		return fmt.Errorf("read backup_manifest: %w", err)
	}
	for _, f := range pm.Files {
		m.Files++
		m.Bytes += f.Size
	}
	if n := len(pm.WALRanges); n > 0 {
		m.EndLSN = pm.WALRanges[n-1].EndLSN
	}
	if m.StartWAL == "" || m.EndLSN == "" {
		return errors.New("backup_label or backup_manifest lacks the backup's place in the write-ahead log")
	}
	return nil
}

// Verify checks a backup against its checksums: that backup_manifest is
// the one our manifest names, then, with pg_verifybackup, every file
// against backup_manifest and the write-ahead log it needs.
func Verify(ctx context.Context, t Tools, b Backup) error {
	raw, err := os.ReadFile(filepath.Join(b.Dir, "backup_manifest"))
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != b.ManifestSHA256 {
		return fmt.Errorf("%s: backup_manifest does not match the checksum in %s", b.Dir, ManifestName)
	}
	out, err := exec.CommandContext(ctx, t.path("pg_verifybackup"), "--quiet", "--ignore", ManifestName, b.Dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_verifybackup %s: %w: %s", b.Dir, err, lastLines(string(out), 5))
	}
	return nil
}

// Open reads the backup in dir.
func Open(dir string) (Backup, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Backup{}, fmt.Errorf("%s is not a finished Boxoffice backup (it has no %s)", dir, ManifestName)
		}
		return Backup{}, err
	}
	b := Backup{Dir: dir}
	if err := json.Unmarshal(raw, &b.Manifest); err != nil {
		return Backup{}, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if b.Format != 1 {
		return Backup{}, fmt.Errorf("%s: backup format %d is not one this Boxoffice reads", dir, b.Format)
	}
	return b, nil
}

// List returns the finished backups in dir, newest first. A directory
// that does not exist holds none.
func List(dir string) ([]Backup, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Backup
	for _, e := range entries {
		if !e.IsDir() || !backupName.MatchString(e.Name()) || strings.HasSuffix(e.Name(), ".partial") {
			continue
		}
		if b, err := Open(filepath.Join(dir, e.Name())); err == nil {
			list = append(list, b)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Started.After(list[j].Started) })
	return list, nil
}

// Find picks the backup to restore from: from itself when it is a
// backup, else the newest backup in it that finished before until (any,
// when until is zero), since recovery can only move forward from a
// backup's end.
func Find(from string, until time.Time) (Backup, error) {
	if _, err := os.Stat(filepath.Join(from, ManifestName)); err == nil {
		b, err := Open(from)
		if err == nil && !until.IsZero() && b.Finished.After(until) {
			return Backup{}, fmt.Errorf("backup %s finished at %s, after %s: recover from an older one", from, b.Finished.Format(time.RFC3339), until.UTC().Format(time.RFC3339))
		}
		return b, err
	}
	list, err := List(from)
	if err != nil {
		return Backup{}, err
	}
	if len(list) == 0 {
		return Backup{}, fmt.Errorf("%s holds no finished backup", from)
	}
	for _, b := range list {
		if until.IsZero() || !b.Finished.After(until) {
			return b, nil
		}
	}
	return Backup{}, fmt.Errorf("every backup in %s finished after %s (the oldest at %s): none can be recovered to that moment",
		from, until.UTC().Format(time.RFC3339), list[len(list)-1].Finished.Format(time.RFC3339))
}

// backupName is the name of a backup's directory, finished or not.
var backupName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(\.partial)?$`)

// Prune keeps the newest keep backups in dir and removes the others, and
// unfinished ones a day old; it touches nothing else in dir. With an
// archive, it then removes the archived write-ahead log that only removed
// backups needed (pg_archivecleanup). It returns the backups it removed,
// and goes on past a backup it cannot remove.
func Prune(t Tools, dir string, keep int, archive string) ([]Backup, error) {
	if keep < 1 {
		return nil, errors.New("keep at least one backup")
	}
	list, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []Backup
	var errs []error
	if len(list) > keep {
		for _, b := range list[keep:] {
			if err := os.RemoveAll(b.Dir); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, b)
		}
		list = list[:keep]
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if !e.IsDir() || !backupName.MatchString(e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			if _, err := os.Stat(filepath.Join(path, ManifestName)); errors.Is(err, fs.ErrNotExist) {
				_ = os.RemoveAll(path)
			}
		}
	}
	if archive != "" && len(list) > 0 {
		oldest := list[len(list)-1]
		out, err := exec.Command(t.path("pg_archivecleanup"), archive, oldest.StartWAL).CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("pg_archivecleanup: %w: %s", err, lastLines(string(out), 3)))
		}
	}
	return removed, errors.Join(errs...)
}

// CopyInto copies the backup's files into pgdata, an empty directory,
// leaving out our manifest. Files keep the backup's modes.
func CopyInto(b Backup, pgdata string) error {
	return filepath.WalkDir(b.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(b.Dir, path)
		if err != nil || rel == "." {
			return err
		}
		// Our manifest, and the server's socket lock, which the backup
		// copied from PGDATA (the embedded cluster keeps its socket there)
		// and which would stop the restored server from starting.
		if rel == ManifestName || strings.HasPrefix(rel, ".s.PGSQL.") {
			return nil
		}
		target := filepath.Join(pgdata, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case info.Mode().Type() == fs.ModeSymlink:
			dest, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(dest, target)
		default:
			return copyFile(path, target, info.Mode().Perm())
		}
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeFileSync(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// lastLines is the end of a tool's output, for an error message.
func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// Options say how Restore recovers.
type Options struct {
	// Archive is the WAL archive to replay; empty: the backup as taken.
	Archive string
	// Until is the moment to recover to; zero: to the end of the archive.
	Until time.Time
	// Drill restores a copy for a test beside the live site: it reads the
	// archive and never writes to it.
	Drill bool
}

// Restore brings backup b back into the embedded cluster's data directory
// dataDir, which must hold no database and not be in use, then replays
// the archived write-ahead log up to o.Until (to the end of the archive
// when zero). It returns with the server stopped and the data directory
// ready for `boxoffice serve`; on failure the data directory is left
// empty again, as it was.
func Restore(ctx context.Context, b Backup, dataDir string, o Options, log *slog.Logger) (embedded.Recovered, error) {
	var r embedded.Recovered
	major, _, _ := strings.Cut(b.PostgreSQL, ".")
	c, err := embedded.Claim(dataDir, log, embedded.Options{WALArchive: o.Archive, Version: major})
	if err != nil {
		return r, err
	}
	if o.Archive != "" {
		if err := embedded.ClaimArchive(o.Archive, b.SystemID); err != nil {
			c.Stop()
			return r, err
		}
		if err := c.CheckArchive(b.StartWAL); err != nil {
			c.Stop()
			return r, err
		}
	}
	if err := Verify(ctx, Tools{BinDir: c.BinDir}, b); err != nil {
		c.Stop()
		return r, err
	}
	if err := CopyInto(b, c.DataDir()); err != nil {
		c.Abandon()
		return r, fmt.Errorf("copy the backup: %w", err)
	}
	if r, err = c.Recover(ctx, embedded.RecoveryTarget{Until: o.Until, Drill: o.Drill}); err != nil {
		c.Abandon()
		if strings.Contains(err.Error(), "before configured recovery target was reached") {
			return r, fmt.Errorf("the archived write-ahead log ends before %s; recover to an earlier moment, or leave out --until to recover all there is",
				o.Until.Format(time.RFC3339))
		}
		return r, fmt.Errorf("recovery failed: %w", err)
	}
	if o.Archive != "" && o.Until.IsZero() {
		if last, ok := newestSegment(o.Archive, r.Timeline); ok && last > segmentOf(r.LSN) {
			c.Abandon()
			return r, fmt.Errorf("recovery stopped at %s, but the archive holds log of that timeline up to segment %s: a segment could not be read (its owner or mode, or a gap), and what follows was not restored; fix the archive and restore again",
				r.LSN, last)
		}
	}
	return r, c.Stop()
}

// segmentOf is the name part (without the timeline) of the 16 MB
// segment holding lsn ("0/5000028" is in …000000000000000005).
func segmentOf(lsn string) string {
	hi, lo, _ := strings.Cut(lsn, "/")
	h, _ := strconv.ParseUint(hi, 16, 32)
	l, _ := strconv.ParseUint(lo, 16, 32)
	return fmt.Sprintf("%08X%08X", h, l>>24)
}

// newestSegment is the name part of the newest segment of timeline in
// the archive dir.
func newestSegment(dir string, timeline int) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	prefix := fmt.Sprintf("%08X", timeline)
	newest := ""
	for _, e := range entries {
		name := e.Name()
		if len(name) == 24 && strings.HasPrefix(name, prefix) && isHex(name) && name[8:] > newest {
			newest = name[8:]
		}
	}
	return newest, newest != ""
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789ABCDEF", r) {
			return false
		}
	}
	return true
}
