package embedded

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoPostgres means no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New(`PostgreSQL server binaries (initdb, postgres) not found.
Boxoffice runs its own PostgreSQL when DATABASE_URL is empty, and needs the server installed:
  Debian/Ubuntu:  sudo apt-get install postgresql
  Fedora:         sudo dnf install postgresql-server
  macOS:          brew install postgresql@15
or put the folder holding initdb and postgres on PATH,
or point Boxoffice at an existing database: DATABASE_URL=postgres://user:pass@host/db`)

// FindServerBinaries returns the directory holding initdb and postgres:
// from PATH, then `pg_config --bindir`, then the usual package locations
// (newest version first).
func FindServerBinaries() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("postgres"); err == nil {
		candidates = append(candidates, filepath.Dir(resolve(p)))
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	for _, pattern := range []string{
		"/usr/lib/postgresql/*/bin",          // Debian, Ubuntu
		"/usr/pgsql-*/bin",                   // PGDG RPMs
		"/opt/homebrew/opt/postgresql@*/bin", // Homebrew (Apple silicon)
		"/usr/local/opt/postgresql@*/bin",    // Homebrew (Intel)
		"/usr/local/pgsql/bin",               // built from source
	} {
		matches, _ := filepath.Glob(pattern)
		sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
		candidates = append(candidates, matches...)
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// versionOf pulls the major version out of a path like /usr/lib/postgresql/15/bin.
func versionOf(path string) int {
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '-' || r == '@' }) {
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// osUser is the unprivileged account the server runs as when Boxoffice runs
// as root, because PostgreSQL refuses to run as root.
type osUser struct {
	Name     string
	UID, GID uint32
}

// ServerUserName is the account used when started as root: the one Debian's
// and most other PostgreSQL packages create.
const ServerUserName = "postgres"

func serverUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(ServerUserName)
	if err != nil {
		return nil, fmt.Errorf("running as root, so PostgreSQL must run as the unprivileged user %q, which does not exist: %w; create it (useradd --system %s) or run Boxoffice as a normal user",
			ServerUserName, err, ServerUserName)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &osUser{Name: u.Username, UID: uint32(uid), GID: uint32(gid)}, nil
}

// credential is nil (run as ourselves) for a nil user.
func (u *osUser) credential() *syscall.Credential {
	if u == nil {
		return nil
	}
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}}
}

// ensureTraversable checks that u can reach dir through every parent folder,
// and gives dir itself the search bit if we own it.
func ensureTraversable(dir string, u *osUser) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("let user %s into %s: %w", u.Name, dir, err)
		}
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		ok := fi.Mode().Perm()&0o001 != 0 ||
			(st != nil && st.Uid == u.UID && fi.Mode().Perm()&0o100 != 0) ||
			(st != nil && st.Gid == u.GID && fi.Mode().Perm()&0o010 != 0)
		if !ok {
			return fmt.Errorf("PostgreSQL runs as user %s (Boxoffice runs as root) and cannot reach %s because %s is closed to it (mode %v); run `chmod o+x %s` or choose a BOXOFFICE_DATA_DIR under an open folder",
				u.Name, dir, p, fi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// chownTree hands root and everything below it to u. A tree whose top
// already belongs to u is left alone: it was handed over on an earlier start.
func chownTree(root string, u *osUser) error {
	if fi, err := os.Stat(root); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == u.UID {
			return nil
		}
	}
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.UID), int(u.GID))
	})
}
