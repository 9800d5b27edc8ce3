// Package ops gathers what an operator asks first about a running
// Boxoffice: which version, which schema, how big the database is, when
// the last backup was taken, how far behind the write-ahead log archive
// is, when the certificates run out, and what is on sale now.
// `boxoffice status` prints it; /metrics shows the same facts.
package ops

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/backup"
)

// Sources are where the facts come from.
type Sources struct {
	Pool      *pgxpool.Pool
	BackupDir string // empty: backups are not looked for
	// Certificates lists the HTTPS certificates; nil when Boxoffice does
	// not serve HTTPS itself.
	Certificates func() ([]Certificate, error)
}

// Certificate is one HTTPS certificate.
type Certificate struct {
	Domain   string
	NotAfter time.Time // zero: none yet
	Issuer   string
}

// Report is the operator's view at one moment.
type Report struct {
	At            time.Time
	Version       string
	PostgreSQL    string
	Schema        int64 // migration the database is at
	SchemaKnown   int64 // newest migration this binary has
	DatabaseBytes int64
	OnSale        int // events fans can buy tickets for now

	Backups    []backup.Backup // newest first
	BackupDir  string
	BackupsErr error

	Archive *Archive // nil: archiving is off

	Certificates    []Certificate
	CertificatesErr error
	HTTPS           bool
}

// Archive is the write-ahead log archive's state.
type Archive struct {
	Dir          string
	LastWAL      string
	LastAt       time.Time // zero: nothing archived yet
	Waiting      int       // completed segments not yet archived; -1: unknown
	Failed       int64
	LastFailedAt time.Time
}

// LastBackup is the newest backup, or nil.
func (r *Report) LastBackup() *backup.Backup {
	if len(r.Backups) == 0 {
		return nil
	}
	return &r.Backups[0]
}

// Collect reads the facts.
func Collect(ctx context.Context, s Sources) (*Report, error) {
	r := &Report{At: time.Now(), Version: Version(), BackupDir: s.BackupDir}
	err := s.Pool.QueryRow(ctx, `SELECT current_setting('server_version'), pg_database_size(current_database()),
			coalesce((SELECT max(version_id) FROM goose_db_version WHERE is_applied), 0),
			(SELECT count(*) FROM events WHERE status = 'on_sale' AND starts_at > now() AND coalesce(on_sale_at, '-infinity') <= now())`).
		Scan(&r.PostgreSQL, &r.DatabaseBytes, &r.Schema, &r.OnSale)
	if err != nil {
		return nil, fmt.Errorf("read the database's state: %w", err)
	}
	if r.SchemaKnown, err = db.KnownVersion(); err != nil {
		return nil, err
	}
	if s.BackupDir != "" {
		r.Backups, r.BackupsErr = backup.List(s.BackupDir)
	}
	// The archive as the server has it, whoever asks.
	var mode, dir string
	if err := s.Pool.QueryRow(ctx, `SELECT current_setting('archive_mode'), coalesce(current_setting('basic_archive.archive_directory', true), '')`).
		Scan(&mode, &dir); err != nil {
		return nil, fmt.Errorf("read the archive's settings: %w", err)
	}
	if mode != "off" {
		a := &Archive{Dir: cmp.Or(dir, "archive_command"), Waiting: -1}
		var lastAt, failedAt *time.Time
		err := s.Pool.QueryRow(ctx, `SELECT coalesce(last_archived_wal, ''), last_archived_time, failed_count, last_failed_time FROM pg_stat_archiver`).
			Scan(&a.LastWAL, &lastAt, &a.Failed, &failedAt)
		if err != nil {
			return nil, fmt.Errorf("read the archiver's state: %w", err)
		}
		if lastAt != nil {
			a.LastAt = *lastAt
		}
		if failedAt != nil {
			a.LastFailedAt = *failedAt
		}
		// The segments the archiver has yet to copy: its lag, in 16 MB
		// files. Listing them takes a superuser or pg_monitor.
		_ = s.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'`).Scan(&a.Waiting)
		r.Archive = a
	}
	if s.Certificates != nil {
		r.HTTPS = true
		r.Certificates, r.CertificatesErr = s.Certificates()
	}
	return r, nil
}

// Version is this binary's version: the module version it was built as,
// with the commit it was built from when known.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+changes"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + modified + ")"
	}
	return v
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) {
	line := func(k, format string, args ...any) { fmt.Fprintf(w, "%-14s %s\n", k+":", fmt.Sprintf(format, args...)) }
	line("version", "%s", r.Version)
	line("postgresql", "%s", r.PostgreSQL)
	switch {
	case r.Schema == r.SchemaKnown:
		line("schema", "migration %d, current", r.Schema)
	case r.Schema > r.SchemaKnown:
		line("schema", "migration %d, NEWER than this binary knows (%d): a newer Boxoffice ran here", r.Schema, r.SchemaKnown)
	default:
		line("schema", "migration %d; this binary would migrate it to %d on start", r.Schema, r.SchemaKnown)
	}
	line("database", "%s", Bytes(r.DatabaseBytes))
	line("on sale now", "%d events", r.OnSale)
	switch b := r.LastBackup(); {
	case r.BackupsErr != nil:
		line("last backup", "cannot read %s: %v", r.BackupDir, r.BackupsErr)
	case b == nil:
		line("last backup", "NONE in %s: run boxoffice backup, or set BOXOFFICE_BACKUP_EVERY", r.BackupDir)
	default:
		line("last backup", "%s, %s ago (%s, %d kept in %s)", b.Finished.Local().Format(time.DateTime), Age(r.At.Sub(b.Finished)), Bytes(b.Bytes), len(r.Backups), r.BackupDir)
	}
	switch a := r.Archive; {
	case a == nil:
		line("wal archive", "OFF: a lost disk loses every sale since the last backup; set BOXOFFICE_WAL_ARCHIVE")
	default:
		s := a.Dir + ": "
		if a.LastAt.IsZero() {
			s += "nothing archived yet"
		} else {
			s += fmt.Sprintf("last %s, %s ago", a.LastWAL, Age(r.At.Sub(a.LastAt)))
		}
		if a.Waiting >= 0 {
			s += fmt.Sprintf("; %d segments waiting", a.Waiting)
		}
		if a.Failed > 0 && a.LastFailedAt.After(a.LastAt) {
			s += fmt.Sprintf("; FAILING since %s (see postgres.log)", a.LastFailedAt.Local().Format(time.DateTime))
		}
		line("wal archive", "%s", s)
	}
	if !r.HTTPS {
		line("certificates", "none: HTTPS is off (BOXOFFICE_DOMAINS is empty)")
	}
	if r.CertificatesErr != nil {
		line("certificates", "cannot read: %v", r.CertificatesErr)
	}
	for _, c := range r.Certificates {
		if c.NotAfter.IsZero() {
			line("certificate", "%s: none yet (asked for at the first visit)", c.Domain)
			continue
		}
		line("certificate", "%s: expires %s, in %s (%s)", c.Domain, c.NotAfter.Local().Format(time.DateTime), Age(c.NotAfter.Sub(r.At)), c.Issuer)
	}
}

// Bytes writes a size the way a person reads it.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Age writes a duration in days from two days on, else to the minute,
// or to the second under one.
func Age(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String()
	return strings.TrimSuffix(s, "0s")
}
