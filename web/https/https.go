// Package https serves Boxoffice over HTTPS by itself: it gets certificates
// from an ACME CA (Let's Encrypt unless told otherwise) through autocert,
// keeps them in the data directory so that a restart does not ask the CA
// again, renews them before they run out, and sends port 80 to HTTPS.
//
// main wires it: TLSConfig for the :443 listener, RedirectHandler for :80,
// HSTS around the site, and Load once both listen.
package https

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Config says which names to get certificates for, and from where.
type Config struct {
	// Domains are the host names the site is reached at (BOXOFFICE_DOMAINS).
	// The first is canonical: port 80 sends a Host it does not know there.
	Domains []string
	// DirectoryURL is the CA's ACME directory; empty is Let's Encrypt
	// production. Try a new setup against Let's Encrypt staging
	// (https://acme-staging-v02.api.letsencrypt.org/directory) first:
	// production allows only a few failed validations an hour.
	DirectoryURL string
	// Email is an optional contact the CA may write to about the account.
	Email string
	// CacheDir keeps the account key and the certificates, so that a
	// restart serves what it has instead of asking the CA again (which
	// would soon hit Let's Encrypt's limit of 5 identical certificates a
	// week). Created 0700 if missing.
	CacheDir string
	// RenewBefore is how long before expiry a certificate is renewed. Zero
	// is autocert's default: a third of the lifetime, at most 30 days.
	// Otherwise between an hour and 30 days, as autocert caps it at 30.
	RenewBefore time.Duration
	// HTTPClient talks to the CA; nil uses http.DefaultTransport. Tests
	// pass one that trusts their CA's own HTTPS certificate.
	HTTPClient *http.Client
}

// Manager gets, keeps and renews the certificates of Config.Domains. The
// work is autocert's; Manager adds the checks, the logs autocert does not
// write, and the port 80 behaviour.
type Manager struct {
	acm      *autocert.Manager
	domains  []string
	cacheDir string
	log      *slog.Logger

	mu       sync.Mutex
	loggedAt map[string]time.Time // when a failed handshake for a domain was last logged
}

// New checks cfg and builds a Manager. It fails on names no CA would issue
// for, so that a typo in BOXOFFICE_DOMAINS stops the start rather than
// failing every handshake later. Getting certificates means accepting the
// CA's terms of service (Let's Encrypt's subscriber agreement): autocert
// is told to accept them.
func New(cfg Config, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	domains, err := checkDomains(cfg.Domains)
	if err != nil {
		return nil, err
	}
	directory := cfg.DirectoryURL
	if directory == "" {
		directory = autocert.DefaultACMEDirectory
	} else if err := checkDirectoryURL(directory); err != nil {
		return nil, err
	}
	if err := checkEmail(cfg.Email); err != nil {
		return nil, err
	}
	if cfg.RenewBefore != 0 && (cfg.RenewBefore < time.Hour || cfg.RenewBefore > maxRenewBefore) {
		return nil, fmt.Errorf("renew before %v: give 0 (autocert's default) or between 1h and %v (autocert goes no further)", cfg.RenewBefore, maxRenewBefore)
	}
	if err := makeCacheDir(cfg.CacheDir); err != nil {
		return nil, err
	}

	client := http.Client{}
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = &caTransport{next: next, log: log}

	m := &Manager{domains: domains, cacheDir: cfg.CacheDir, log: log, loggedAt: map[string]time.Time{}}
	m.acm = &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Cache:       loggedCache{DirCache: autocert.DirCache(cfg.CacheDir), domains: domains, log: log},
		HostPolicy:  autocert.HostWhitelist(domains...),
		RenewBefore: cfg.RenewBefore,
		Client:      &acme.Client{DirectoryURL: directory, HTTPClient: &client, UserAgent: "boxoffice"},
		Email:       cfg.Email,
	}
	return m, nil
}

// maxRenewBefore is where autocert caps RenewBefore (renewal.go).
const maxRenewBefore = 30 * 24 * time.Hour

// Domains are the names certificates are for, checked and lower-cased;
// the first is canonical.
func (m *Manager) Domains() []string { return slices.Clone(m.domains) }

// TLSConfig is for the :443 listener: certificates come from the cache or
// the CA during the handshake. NextProtos offers HTTP/2, HTTP/1.1 and
// acme-tls/1, the tls-alpn-01 challenge, which is how the CA checks that
// this server answers for the name (it must reach it on port 443).
// http.Server.ServeTLS(ln, "", "") keeps all three.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.getCertificate,
		NextProtos:     []string{"h2", "http/1.1", acme.ALPNProto},
		MinVersion:     tls.VersionTLS12,
	}
}

// getCertificate is autocert's, plus a log line when one of our domains
// has no certificate to show: autocert only returns the error to the TLS
// stack, and a site nobody can reach deserves more than a handshake error.
func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert, err := m.acm.GetCertificate(hello)
	if err != nil {
		m.logFailure(hello, err)
	}
	return cert, err
}

// logFailure logs a failed handshake for one of our domains at most once a
// minute: autocert keeps a failed attempt for a minute, and every
// handshake meanwhile fails the same way. Names that are not ours
// (scanners, a stray DNS record) and the CA's challenge probes are not
// something the operator can act on, so they stay out of the log.
func (m *Manager) logFailure(hello *tls.ClientHelloInfo, err error) {
	domain := hostname(hello.ServerName)
	if !slices.Contains(m.domains, domain) || slices.Equal(hello.SupportedProtos, []string{acme.ALPNProto}) {
		return
	}
	m.mu.Lock()
	now := time.Now()
	quiet := now.Sub(m.loggedAt[domain]) < time.Minute
	if !quiet {
		m.loggedAt[domain] = now
	}
	m.mu.Unlock()
	if !quiet {
		m.log.Error("https: no certificate to serve", "domain", domain, "err", err)
	}
}

// Load gets every domain's certificate now, from the cache or else from
// the CA, instead of at the first visitor's handshake. That also starts
// autocert's renewal timer for each domain: autocert starts one only when
// a certificate is first asked for, so a name nobody visits after a
// restart would otherwise not be renewed until someone does (and then
// waits for a fresh one). Call it once both listeners are up, since the CA
// checks the challenges on them; it may take minutes, so from a goroutine.
func (m *Manager) Load() error {
	var errs []error
	for _, d := range m.domains {
		if _, err := m.getCertificate(modernHello(d)); err != nil {
			errs = append(errs, fmt.Errorf("certificate for %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// modernHello asks for name as a current browser would: autocert picks an
// ECDSA certificate only for a hello that shows ECDSA support, and an
// empty hello would get it an RSA one nobody needs.
func modernHello(name string) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		ServerName:       name,
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:  []tls.CurveID{tls.CurveP256},
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	}
}

// RedirectHandler is for :80. It answers the CA's http-01 challenges
// (autocert tries them when tls-alpn-01 fails, e.g. behind a proxy that
// ends TLS itself) and sends everything else to HTTPS.
//
// GET and HEAD get a 301 to https://host/path?query. A Host that is not
// one of our domains (an IP address, a stray DNS name) goes to the first
// domain rather than to a 400: we cannot serve that name over HTTPS at all,
// so this is the one chance to bring the visitor to the site, and the
// target is always ours, so it cannot be used as an open redirect. Other
// methods get a 400 that names the HTTPS URL: their body has already
// crossed the network in the clear, and a redirect would make a client
// misconfigured with http:// keep working (and leaking) unnoticed.
func (m *Manager) RedirectHandler() http.Handler {
	challenges := m.acm.HTTPHandler(http.HandlerFunc(m.redirect))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// autocert matches Host against the domains as it comes, but Host
		// may carry a port (tickets.example.com:80 is legal, and a CA
		// checking another port sends one), which would fail the match.
		r2 := *r
		r2.Host = hostname(r.Host)
		challenges.ServeHTTP(w, &r2)
	})
}

func (m *Manager) redirect(w http.ResponseWriter, r *http.Request) {
	host := hostname(r.Host)
	if !slices.Contains(m.domains, host) {
		host = m.domains[0]
	}
	target := "https://" + host + r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "This site is served over HTTPS only: "+target, http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// hostname is the host of a Host header or a TLS server name, as the
// domains are kept: lower case, no port, no trailing dot.
func hostname(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// HSTS tells browsers to use HTTPS only for this host for a year, so that
// a fan on hostile Wi-Fi never makes the plain-HTTP first request an
// attacker could intercept. Wrap only what is served over TLS. It leaves
// out includeSubDomains (the operator's other subdomains are not ours to
// decide) and preload (a promise that is hard to take back).
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}
