package https

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/crypto/acme/autocert"
)

// SplitDomains reads BOXOFFICE_DOMAINS: names separated by commas or
// spaces ("tickets.example.com, www.tickets.example.com").
func SplitDomains(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// checkDomains returns the names as autocert will see them in a TLS hello
// (lower case, no trailing dot), without repeats, or every problem at once
// so that the operator fixes the list in one go.
func checkDomains(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, errors.New("no domains: set BOXOFFICE_DOMAINS to the host name the site is reached at, e.g. tickets.example.com")
	}
	var out []string
	var errs []error
	for _, raw := range names {
		d, err := checkDomain(raw)
		if err != nil {
			errs = append(errs, err)
		} else if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// checkDomain accepts a host name a CA would issue for over http-01 or
// tls-alpn-01, and names what to change otherwise.
func checkDomain(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", errors.New(`domain "": the name is empty`)
	case strings.Contains(name, "://"):
		host := "the part after ://"
		if u, err := url.Parse(name); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		return "", fmt.Errorf("domain %q is a URL: give the host name alone (%s)", raw, host)
	case strings.Contains(name, "*"):
		return "", fmt.Errorf("domain %q: a wildcard needs the dns-01 challenge, which Boxoffice does not do; list each name instead", raw)
	case strings.ContainsAny(name, "/?#@"):
		return "", fmt.Errorf("domain %q: give the host name alone, without path, query or user", raw)
	}
	if host, _, err := net.SplitHostPort(name); err == nil {
		return "", fmt.Errorf("domain %q has a port: give %s alone; HTTPS is served on 443 and 80, the ports the CA checks", raw, host)
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return "", fmt.Errorf("domain %q is an IP address: certificates here are for host names; point a DNS name at this machine", raw)
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, r := range name {
		if r > unicode.MaxASCII {
			return "", fmt.Errorf("domain %q is not ASCII: give its punycode form (xn--…)", raw)
		}
	}
	if !strings.Contains(name, ".") {
		return "", fmt.Errorf("domain %q is not a full host name: give one like tickets.example.com", raw)
	}
	if len(name) > 253 {
		return "", fmt.Errorf("domain %q is longer than the 253 characters DNS allows", raw)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("domain %q: each part between dots must have 1 to 63 characters", raw)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("domain %q: a part cannot start or end with '-'", raw)
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", fmt.Errorf("domain %q: %q is not allowed in a host name (letters, digits, '-' and '.')", raw, c)
			}
		}
	}
	return name, nil
}

// checkDirectoryURL insists on https, which ACME requires (RFC 8555).
func checkDirectoryURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("ACME directory %q: give the CA's https:// directory URL, e.g. %s", s, autocert.DefaultACMEDirectory)
	}
	return nil
}

// checkEmail accepts a bare address; the CA turns anything else down, but
// only at the first certificate, long after the start.
func checkEmail(s string) error {
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("ACME contact email %q: give a plain address like ops@example.com", s)
	}
	return nil
}

// makeCacheDir creates the cache and checks that it takes files now, not
// at the first certificate, which would be lost on restart otherwise.
func makeCacheDir(dir string) error {
	if dir == "" {
		return errors.New("no certificate cache directory: without one every restart asks the CA again and soon hits its rate limits")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certificate cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-test-")
	if err != nil {
		return fmt.Errorf("certificate cache %s cannot take files: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
