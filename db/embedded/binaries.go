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
	dirs := serverBinaries()
	if len(dirs) == 0 {
		return "", ErrNoPostgres
	}
	return dirs[0], nil
}

// binariesFor returns the server binaries that can run the cluster in
// pgdata: the first found, for a new cluster, else the first of the
// cluster's major version. A cluster made by another major version cannot
// be started by this one; the error says how to upgrade it.
func binariesFor(pgdata, version string) (string, error) {
	dirs := serverBinaries()
	if len(dirs) == 0 {
		return "", ErrNoPostgres
	}
	want := version
	if b, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION")); err == nil {
		want = strings.TrimSpace(string(b))
	}
	if want == "" {
		return dirs[0], nil // a new cluster
	}
	for _, dir := range dirs {
		if v, err := ServerVersion(dir); err == nil && v == want {
			return dir, nil
		}
	}
	have, _ := ServerVersion(dirs[0])
	return "", &VersionError{PGData: pgdata, Cluster: want, Server: have, BinDir: dirs[0]}
}

// BinariesFor is where the server programs live that suit the cluster in
// the data directory dir (pg_basebackup and pg_verifybackup must be of its
// version).
func BinariesFor(dir string) (string, error) {
	return binariesFor(filepath.Join(dir, "pgdata"), "")
}

// VersionError means the cluster was made by another major version of
// PostgreSQL than the one installed: the data is fine, but must be
// upgraded with pg_upgrade before this server can run it.
type VersionError struct {
	PGData  string
	Cluster string // major version that made the cluster, from PG_VERSION
	Server  string // major version installed
	BinDir  string // where the installed one lives
}

func (e *VersionError) Error() string {
	old := strings.Replace(e.BinDir, "/"+e.Server+"/", "/"+e.Cluster+"/", 1)
	if old == e.BinDir {
		old = "/path/to/postgresql-" + e.Cluster + "/bin"
	}
	return fmt.Sprintf(`the database in %[1]s was made by PostgreSQL %[2]s, but this machine runs PostgreSQL %[3]s (%[4]s), which cannot open it.
Nothing was changed. Either install PostgreSQL %[2]s's server again, or upgrade the data to %[3]s:
  1. take a backup first:   boxoffice backup --to /somewhere/safe
  2. make an empty %[3]s cluster beside it and upgrade into it (as the user that owns the data;
     pg_upgrade needs the server binaries of both versions installed):
       %[4]s/initdb -D %[1]s.new -U boxoffice -E UTF8 --lc-collate=C --lc-ctype=C.UTF-8 --auth-local=trust --auth-host=reject
       %[4]s/pg_upgrade -b %[5]s -B %[4]s -d %[1]s -D %[1]s.new -U boxoffice
  3. swap them:             mv %[1]s %[1]s.old && mv %[1]s.new %[1]s
then start Boxoffice again.`, e.PGData, e.Cluster, e.Server, e.BinDir, old)
}

// ServerVersion is the major version of the server binaries in dir ("15").
func ServerVersion(dir string) (string, error) {
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s/postgres --version: %w", dir, err)
	}
	// "postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)"
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "", fmt.Errorf("%s/postgres --version said %q", dir, out)
	}
	major, _, _ := strings.Cut(f[2], ".")
	return major, nil
}

// serverBinaries lists the directories holding initdb and postgres, in
// order of preference.
func serverBinaries() []string {
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
	var dirs []string
	seen := map[string]bool{}
	for _, dir := range candidates {
		if !seen[dir] && isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) {
			dirs = append(dirs, dir)
		}
		seen[dir] = true
	}
	return dirs
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
	return chownAll(root, u)
}

// chownAll hands root and everything below it to u.
func chownAll(root string, u *osUser) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.UID), int(u.GID))
	})
}
