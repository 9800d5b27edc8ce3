package https

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	ok := Config{Domains: []string{domain}, CacheDir: t.TempDir()}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // in the error
	}{
		{"no domains", func(c *Config) { c.Domains = nil }, "no domains"},
		{"empty domain", func(c *Config) { c.Domains = []string{""} }, "the name is empty"},
		{"URL", func(c *Config) { c.Domains = []string{"https://x"} }, `"https://x" is a URL: give the host name alone (x)`},
		{"port", func(c *Config) { c.Domains = []string{"x:443"} }, `"x:443" has a port: give x alone`},
		{"wildcard", func(c *Config) { c.Domains = []string{"*.x.com"} }, "a wildcard needs the dns-01 challenge"},
		{"path", func(c *Config) { c.Domains = []string{"x.com/tickets"} }, "without path"},
		{"single label", func(c *Config) { c.Domains = []string{"tickets"} }, "not a full host name"},
		{"IP address", func(c *Config) { c.Domains = []string{"192.0.2.7"} }, "is an IP address"},
		{"underscore", func(c *Config) { c.Domains = []string{"my_tickets.example.com"} }, `'_' is not allowed`},
		{"hyphen at the end", func(c *Config) { c.Domains = []string{"tickets-.example.com"} }, "cannot start or end with '-'"},
		{"not ASCII", func(c *Config) { c.Domains = []string{"bücher.example"} }, "punycode"},
		{"every problem at once", func(c *Config) { c.Domains = []string{"https://x", "*.x.com"} }, "is a URL: give the host name alone (x)\ndomain \"*.x.com\": a wildcard"},
		{"plain HTTP directory", func(c *Config) { c.DirectoryURL = "http://localhost:14000/dir" }, "give the CA's https:// directory URL"},
		{"email with a name", func(c *Config) { c.Email = "Ops <ops@example.com>" }, "give a plain address"},
		{"renew too early", func(c *Config) { c.RenewBefore = 31 * 24 * time.Hour }, "between 1h and 720h0m0s"},
		{"renew too late", func(c *Config) { c.RenewBefore = time.Minute }, "between 1h"},
		{"no cache", func(c *Config) { c.CacheDir = "" }, "no certificate cache directory"},
		{"cache is a file", func(c *Config) { c.CacheDir = filepath.Join(writeFile(t), "acme") }, "certificate cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func TestNewKeepsDomainsAsTLSSeesThem(t *testing.T) {
	t.Parallel()
	m, err := New(Config{Domains: SplitDomains(" Tickets.Example.com., www.tickets.example.com tickets.example.com"), CacheDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Domains(), []string{domain, "www." + domain}; !slices.Equal(got, want) {
		t.Errorf("domains %q, want %q", got, want)
	}
}

// Port 80 sends visitors to HTTPS on the host they asked for, or on the
// first domain for a host that is not ours, and leaves the CA's challenge
// path to autocert.
func TestRedirect(t *testing.T) {
	t.Parallel()
	m := newManager(t, Config{Domains: []string{domain, "www." + domain}, CacheDir: t.TempDir()}, nil)
	ln := listen(t)
	serve(t, ln, &http.Server{Handler: m.RedirectHandler()})
	c := client(ln.Addr().String(), nil)
	for _, tc := range []struct {
		name, method, url, host string
		status                  int
		location                string
	}{
		{"path and query kept", "GET", "http://tickets.example.com/events/3?x=1", "", 301, "https://tickets.example.com/events/3?x=1"},
		{"another of our domains", "HEAD", "http://www.tickets.example.com/", "", 301, "https://www.tickets.example.com/"},
		{"host with a port, in capitals", "GET", "http://tickets.example.com/search?q=jazz", "TICKETS.example.com:80", 301, "https://tickets.example.com/search?q=jazz"},
		{"a host that is not ours", "GET", "http://192.0.2.7/events/3", "", 301, "https://tickets.example.com/events/3"},
		{"no redirect for a form post", "POST", "http://tickets.example.com/bookings", "", 400, ""},
		{"challenge path left to autocert", "GET", "http://tickets.example.com/.well-known/acme-challenge/no-such-token", "", 404, ""},
		{"challenge for a host that is not ours", "GET", "http://192.0.2.7/.well-known/acme-challenge/no-such-token", "", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Errorf("%s %s: %d to %q, want %d to %q", tc.method, tc.url, res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
			}
			if tc.status == 400 && !strings.Contains(string(body), "https://tickets.example.com/bookings") {
				t.Errorf("400 says %q, want the HTTPS URL", body)
			}
		})
	}
}

// ReadCache reports expiry from the files alone.
func TestReadCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notAfter := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Second)
	leaf := writeCached(t, dir, domain, time.Now().Add(-time.Hour), notAfter)
	data, err := os.ReadFile(filepath.Join(dir, domain))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, domain+"+rsa"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	certs, err := ReadCache(dir, []string{domain, "www." + domain})
	if err != nil {
		t.Fatal(err)
	}
	want := []CertInfo{
		{Domain: domain, Key: "ecdsa", Found: true, NotBefore: leaf.NotBefore, NotAfter: notAfter.UTC(), Issuer: "CN=Boxoffice test CA", Serial: leaf.SerialNumber.Text(16)},
		{Domain: domain, Key: "rsa", Found: true, NotBefore: leaf.NotBefore, NotAfter: notAfter.UTC(), Issuer: "CN=Boxoffice test CA", Serial: leaf.SerialNumber.Text(16)},
		{Domain: "www." + domain, Key: "ecdsa"},
	}
	for i := range want {
		want[i].Serial = strings.ToUpper(want[i].Serial)
	}
	if len(certs) != len(want) {
		t.Fatalf("ReadCache: %+v, want %+v", certs, want)
	}
	for i := range want {
		if certs[i] != want[i] {
			t.Errorf("ReadCache[%d] = %+v, want %+v", i, certs[i], want[i])
		}
	}

	if err := os.WriteFile(filepath.Join(dir, domain), []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCache(dir, []string{domain}); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, domain)) {
		t.Errorf("ReadCache of a broken file: %v, want an error naming it", err)
	}
}

func writeFile(t *testing.T) string {
	name := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}
