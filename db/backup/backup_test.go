package backup_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/db/backup"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// fakeBackup writes a finished backup's manifest, as Take would, started
// at t and needing the log from wal on.
func fakeBackup(t *testing.T, dir string, at time.Time, wal string) string {
	t.Helper()
	path := filepath.Join(dir, at.UTC().Format("20060102T150405Z"))
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	m := backup.Manifest{Format: 1, Started: at, Finished: at.Add(time.Minute), StartWAL: wal}
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(path, backup.ManifestName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPruneKeepsTheNewestAndTheLogTheyNeed: of five backups, the newest
// two are kept; archived log older than the oldest kept backup goes
// (pg_archivecleanup), the rest stays; an unfinished backup a day old is
// removed, a fresh one (perhaps being taken) is not.
func TestPruneKeepsTheNewestAndTheLogTheyNeed(t *testing.T) {
	bin, err := embedded.FindServerBinaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, archive := t.TempDir(), t.TempDir()
	day := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var wals []string
	for i := range 5 {
		wal := fmt.Sprintf("00000001%016X", 2*i+1)
		wals = append(wals, wal, fmt.Sprintf("00000001%016X", 2*i+2))
		fakeBackup(t, dir, day.AddDate(0, 0, i), wal)
	}
	for _, w := range wals {
		if err := os.WriteFile(filepath.Join(archive, w), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale, fresh := filepath.Join(dir, "20261130T030000Z.partial"), filepath.Join(dir, "20261206T030000Z.partial")
	for _, p := range []string{stale, fresh} {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	os.Chtimes(stale, old, old)

	removed, err := backup.Prune(backup.Tools{BinDir: bin}, dir, 2, archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %d backups, want 3", len(removed))
	}
	list, err := backup.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, b := range list {
		kept = append(kept, b.StartWAL)
	}
	if !slices.Equal(kept, []string{wals[8], wals[6]}) {
		t.Errorf("kept backups starting at %v, want the newest two (%s, %s)", kept, wals[8], wals[6])
	}
	entries, _ := os.ReadDir(archive)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, wals[6:]) {
		t.Errorf("archive holds %v, want %v: the log from the oldest kept backup on", left, wals[6:])
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("an unfinished backup a day old was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("an unfinished backup of now was removed: %v", err)
	}
}

// TestFindPicksABackupBeforeTheMoment: restoring to a moment starts from
// the newest backup finished before it, and says so when there is none.
func TestFindPicksABackupBeforeTheMoment(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for i := range 3 {
		fakeBackup(t, dir, day.AddDate(0, 0, i), "000000010000000000000001")
	}
	b, err := backup.Find(dir, day.AddDate(0, 0, 1).Add(2*time.Hour))
	if err != nil || !b.Started.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("Find for the second day: %v, %v; want the backup of that day", b.Started, err)
	}
	if b, err := backup.Find(dir, time.Time{}); err != nil || !b.Started.Equal(day.AddDate(0, 0, 2)) {
		t.Errorf("Find with no moment: %v, %v; want the newest", b.Started, err)
	}
	if _, err := backup.Find(dir, day.Add(-time.Hour)); err == nil {
		t.Error("Find before every backup found one")
	}
	if _, err := backup.Find(t.TempDir(), time.Time{}); err == nil {
		t.Error("Find in an empty directory found a backup")
	}
}
