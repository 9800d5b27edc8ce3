package https

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/web/https/pebbletest"
)

const domain = "tickets.example.com"

// A first handshake gets a certificate from the CA, served over HTTP/2
// with HSTS; a restart on the same cache serves that very certificate
// with the CA gone.
func TestIssueThenRestartWithoutTheCA(t *testing.T) {
	t.Parallel()
	p := pebbletest.Start(t, pebbletest.Options{})
	log, logs := testLog(t)
	cfg := Config{Domains: []string{domain}, DirectoryURL: p.DirectoryURL, CacheDir: filepath.Join(t.TempDir(), "acme"), HTTPClient: p.Client}
	m := newManager(t, cfg, log)

	res := get(t, client(serveTLS(t, m, log), p.Roots), "https://"+domain+"/")
	if res.Proto != "HTTP/2.0" {
		t.Errorf("served over %s, want HTTP/2.0", res.Proto)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	issued := res.TLS.PeerCertificates[0]
	if err := issued.VerifyHostname(domain); err != nil {
		t.Error(err)
	}

	certs, err := m.Certificates()
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || !certs[0].Found || certs[0].Serial != fmt.Sprintf("%X", issued.SerialNumber) || !certs[0].NotAfter.Equal(issued.NotAfter) {
		t.Errorf("cache holds %+v, want the certificate served (serial %X)", certs, issued.SerialNumber)
	}
	if fi, err := os.Stat(cfg.CacheDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if !strings.Contains(logs.String(), "https: new certificate") {
		t.Error("no log line for the new certificate")
	}

	p.Stop()
	restarted := newManager(t, cfg, log)
	res = get(t, client(serveTLS(t, restarted, log), p.Roots), "https://"+domain+"/")
	if again := res.TLS.PeerCertificates[0]; again.SerialNumber.Cmp(issued.SerialNumber) != 0 {
		t.Errorf("after the restart: serial %X, want %X from the cache", again.SerialNumber, issued.SerialNumber)
	}
}

// A cached certificate inside RenewBefore is replaced by autocert's
// renewal timer while the server runs. The certificate expires in a day,
// so only RenewBefore (30 days) puts it inside the window: autocert's
// default, a third of its lifetime, would wait 16 hours.
func TestRenewBeforeExpiry(t *testing.T) {
	t.Parallel()
	p := pebbletest.Start(t, pebbletest.Options{})
	log, logs := testLog(t)
	cache := t.TempDir()
	old := writeCached(t, cache, domain, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	m := newManager(t, Config{Domains: []string{domain}, DirectoryURL: p.DirectoryURL, CacheDir: cache, RenewBefore: 30 * 24 * time.Hour, HTTPClient: p.Client}, log)
	addr := serveTLS(t, m, log)

	// The first handshake serves the cached certificate (autocert took it
	// as valid) and starts the renewal timer, which is due at once.
	chain, err := servedChain(addr, domain)
	if err != nil {
		t.Fatal(err)
	}
	if chain[0].SerialNumber.Cmp(old.SerialNumber) != 0 {
		t.Fatalf("first handshake served serial %X (issuer %s), want the cached %X", chain[0].SerialNumber, chain[0].Issuer, old.SerialNumber)
	}
	for deadline := time.Now().Add(time.Minute); chain[0].SerialNumber.Cmp(old.SerialNumber) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the certificate was not renewed within a minute")
		}
		if chain, err = servedChain(addr, domain); err != nil {
			t.Fatal(err)
		}
	}
	verify(t, chain, p.Roots)
	if life := time.Until(chain[0].NotAfter); life < 80*24*time.Hour {
		t.Errorf("renewed certificate runs out in %v, want a fresh 90-day one", life)
	}
	certs, err := m.Certificates()
	if err != nil {
		t.Fatal(err)
	}
	if certs[0].Serial != fmt.Sprintf("%X", chain[0].SerialNumber) {
		t.Errorf("cache holds serial %s, want the renewed %X", certs[0].Serial, chain[0].SerialNumber)
	}
	if !strings.Contains(logs.String(), "https: new certificate") {
		t.Error("no log line for the renewal")
	}
}

// Load gets every domain's certificate without waiting for a visitor.
func TestLoad(t *testing.T) {
	t.Parallel()
	p := pebbletest.Start(t, pebbletest.Options{})
	log, _ := testLog(t)
	both := []string{domain, "www." + domain}
	m := newManager(t, Config{Domains: both, DirectoryURL: p.DirectoryURL, CacheDir: t.TempDir(), HTTPClient: p.Client}, log)
	if err := m.Load(); err != nil {
		t.Fatal(err)
	}
	certs, err := m.Certificates()
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 {
		t.Fatalf("certificates: %+v, want one ECDSA certificate for each domain", certs)
	}
	addr := serveTLS(t, m, log)
	for i, c := range certs {
		if c.Domain != both[i] || !c.Found || c.Key != "ecdsa" {
			t.Errorf("certificate %d: %+v", i, c)
		}
		chain, err := servedChain(addr, c.Domain)
		if err != nil {
			t.Fatal(err)
		}
		verify(t, chain, p.Roots)
		if got := fmt.Sprintf("%X", chain[0].SerialNumber); got != c.Serial {
			t.Errorf("%s: served serial %s, want the loaded %s", c.Domain, got, c.Serial)
		}
	}
}

// With Pebble checking challenges for real, both kinds autocert uses work:
// tls-alpn-01 on the TLS listener, and http-01 on the redirect handler
// when tls-alpn-01 cannot get through. The CA's reason for the failed
// tls-alpn-01 reaches the log.
func TestChallenges(t *testing.T) {
	t.Parallel()
	t.Run("tls-alpn-01", func(t *testing.T) {
		t.Parallel()
		ln := listen(t)
		p := pebbletest.Start(t, pebbletest.Options{Validate: true, TLSPort: port(ln)})
		log, _ := testLog(t)
		// No RedirectHandler: autocert tries http-01 only once asked to serve it.
		m := newManager(t, Config{Domains: []string{domain}, DirectoryURL: p.DirectoryURL, CacheDir: t.TempDir(), HTTPClient: p.Client}, log)
		serveTLSOn(t, ln, m, log)
		get(t, client(ln.Addr().String(), p.Roots), "https://"+domain+"/")
	})
	t.Run("http-01", func(t *testing.T) {
		t.Parallel()
		ln, plain := listen(t), listen(t)
		p := pebbletest.Start(t, pebbletest.Options{Validate: true, TLSPort: pebbletest.FreePort(t), HTTPPort: port(plain)})
		log, logs := testLog(t)
		m := newManager(t, Config{Domains: []string{domain}, DirectoryURL: p.DirectoryURL, CacheDir: t.TempDir(), HTTPClient: p.Client}, log)
		serveTLSOn(t, ln, m, log)
		serve(t, plain, &http.Server{Handler: m.RedirectHandler()})
		get(t, client(ln.Addr().String(), p.Roots), "https://"+domain+"/")
		for _, want := range []string{"https: the ACME CA could not validate the domain", "domain=" + domain, "challenge=tls-alpn-01", "Failed to connect to 127.0.0.1"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q", want)
			}
		}
	})
}

// A name the CA refuses fails the handshake, and the log says which name
// and what the CA said, once, however many handshakes fail.
func TestRefusalIsLogged(t *testing.T) {
	t.Parallel()
	const blocked = "blocked.example.com"
	p := pebbletest.Start(t, pebbletest.Options{Blocked: []string{blocked}})
	log, logs := testLog(t)
	m := newManager(t, Config{Domains: []string{blocked}, DirectoryURL: p.DirectoryURL, CacheDir: t.TempDir(), HTTPClient: p.Client}, log)
	addr := serveTLS(t, m, log)
	for range 2 {
		if _, err := servedChain(addr, blocked); err == nil {
			t.Fatal("handshake succeeded for a name the CA refuses")
		}
	}
	out := logs.String()
	for _, want := range []string{"https: the ACME CA refused", "rejectedIdentifier", blocked} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if n := strings.Count(out, "https: no certificate to serve"); n != 1 {
		t.Errorf("%d lines about the failed handshakes, want 1 a minute", n)
	}
	if certs, err := m.Certificates(); err != nil || certs[0].Found {
		t.Errorf("certificates: %+v, %v; want none found", certs, err)
	}
}

func newManager(t *testing.T, cfg Config, log *slog.Logger) *Manager {
	t.Helper()
	m, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serveTLS serves a small page with HSTS from m on a free port, the way
// main serves the site on 443, and returns the address.
func serveTLS(t *testing.T, m *Manager, log *slog.Logger) string {
	t.Helper()
	ln := listen(t)
	serveTLSOn(t, ln, m, log)
	return ln.Addr().String()
}

func serveTLSOn(t *testing.T, ln net.Listener, m *Manager, log *slog.Logger) {
	t.Helper()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tickets") })
	srv := &http.Server{Handler: HSTS(page), TLSConfig: m.TLSConfig(), ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
}

func serve(t *testing.T, ln net.Listener, srv *http.Server) {
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// client reaches any URL through addr, trusting only roots.
func client(addr string, roots *x509.CertPool) *http.Client {
	var d net.Dialer
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       time.Minute,
	}
}

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK || string(body) != "tickets" {
		t.Fatalf("GET %s: %s %q %v", url, res.Status, body, err)
	}
	return res
}

// servedChain is what the server at addr shows for name, unchecked.
func servedChain(addr, name string) ([]*x509.Certificate, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates, nil
}

// verify checks chain as a browser trusting only roots would.
func verify(t *testing.T, chain []*x509.Certificate, roots *x509.CertPool) {
	t.Helper()
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: chain[0].DNSNames[0], Roots: roots, Intermediates: inter}); err != nil {
		t.Errorf("chain for %v: %v", chain[0].DNSNames, err)
	}
}

// writeCached puts a certificate for name into dir as autocert keeps it
// (autocert.go, cachePut): the EC private key in PEM, then the chain, leaf
// first. It is signed by a CA of the test's own, not the CA under test.
func writeCached(t *testing.T, dir, name string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	caKey, caCert := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Boxoffice test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: notBefore, NotAfter: notAfter.Add(time.Hour),
	})
	key, leaf := newCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: notBefore, NotAfter: notAfter,
	})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return leaf
}

// newCert signs tmpl with a new P-256 key, by parent (itself if nil).
func newCert(t *testing.T, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// testLog collects what the code under test logs, shown if the test fails.
// Not t.Log: autocert's goroutines may log after the test has ended.
func testLog(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
