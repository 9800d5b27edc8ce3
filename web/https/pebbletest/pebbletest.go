// Package pebbletest starts Pebble, Let's Encrypt's ACME server for tests,
// for the tests of whatever gets certificates over ACME. Each test gets
// its own Pebble, with a fresh root, on free ports.
package pebbletest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Install is the command CI runs to get the Pebble these tests know.
const Install = "go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3"

// Path finds the pebble binary: BOXOFFICE_PEBBLE, or on PATH. Without it
// the test skips, except in CI, which installs it.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BOXOFFICE_PEBBLE"); p != "" {
		return p
	}
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no pebble for the ACME tests: %s, or set BOXOFFICE_PEBBLE", Install)
	}
	t.Skipf("no pebble on this machine (%s, or set BOXOFFICE_PEBBLE); skipping", Install)
	return ""
}

// FreePort is a TCP port nothing listens on, for now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Options change how Pebble behaves.
type Options struct {
	// Validate makes Pebble check challenges for real: every name
	// resolves to 127.0.0.1 (through a DNS server started for it), and it
	// connects to HTTPPort for http-01 and TLSPort for tls-alpn-01.
	// Without it, every challenge passes unchecked.
	Validate          bool
	HTTPPort, TLSPort int
	// Blocked are names Pebble refuses, as a CA refuses what its policy
	// forbids.
	Blocked []string
}

// Pebble is a running Pebble.
type Pebble struct {
	// DirectoryURL is the ACME directory.
	DirectoryURL string
	// Client trusts Pebble's own HTTPS certificate, for the ACME client
	// under test.
	Client *http.Client
	// CertFile is that certificate (PEM), for a client in another
	// process: SSL_CERT_FILE=CertFile makes a Go program trust it.
	CertFile string
	// Roots holds the root Pebble issues under: a new one each start,
	// fetched from its management interface.
	Roots *x509.CertPool

	stop func()
}

// Start starts Pebble and stops it when the test ends. Pebble rejects no
// nonce at random (PEBBLE_WFE_NONCEREJECT=0) and does not sleep before
// validating (PEBBLE_VA_NOSLEEP=1), so that tests are quick and not flaky.
func Start(t testing.TB, o Options) *Pebble {
	t.Helper()
	path := Path(t)
	dir := t.TempDir()
	cert, roots := selfSigned(t, dir)

	acmePort, mgmtPort := FreePort(t), FreePort(t)
	if o.HTTPPort == 0 {
		o.HTTPPort = FreePort(t)
	}
	if o.TLSPort == 0 {
		o.TLSPort = FreePort(t)
	}
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":           fmt.Sprintf("127.0.0.1:%d", acmePort),
		"managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate":             cert.cert,
		"privateKey":              cert.key,
		"httpPort":                o.HTTPPort,
		"tlsPort":                 o.TLSPort,
		"domainBlocklist":         o.Blocked,
		"keyAlgorithm":            "ecdsa",
		// A certificate lives 90 days, as Let's Encrypt's do, so that
		// renewal timing is what production sees.
		"profiles": map[string]any{"default": map[string]any{"description": "90 days", "validityPeriod": 90 * 24 * 3600}},
	}}
	configFile := filepath.Join(dir, "pebble-config.json")
	writeJSON(t, configFile, config)

	args := []string{"-config", configFile}
	env := append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	if o.Validate {
		args = append(args, "-dnsserver", serveDNS(t))
	} else {
		env = append(env, "PEBBLE_VA_ALWAYS_VALID=1")
	}
	out, err := os.Create(filepath.Join(dir, "pebble.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	p := &Pebble{
		DirectoryURL: fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort),
		CertFile:     cert.cert,
		Client:       &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 30 * time.Second},
		stop:         func() { once.Do(func() { cmd.Process.Kill(); <-exited }) },
	}
	t.Cleanup(func() {
		p.stop()
		out.Close()
		if t.Failed() {
			log, _ := os.ReadFile(out.Name())
			t.Logf("pebble's log:\n%s", log)
		}
	})

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := p.Client.Get(p.DirectoryURL); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("pebble exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("pebble did not start")
		}
	}
	p.Roots = x509.NewCertPool()
	if !p.Roots.AppendCertsFromPEM(p.get(t, fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))) {
		t.Fatal("pebble's /roots/0 holds no certificate")
	}
	return p
}

// Stop stops Pebble before the test ends, to show that nothing more is
// asked of it.
func (p *Pebble) Stop() { p.stop() }

func (p *Pebble) get(t testing.TB, url string) []byte {
	t.Helper()
	res, err := p.Client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return body
}

type keyPair struct{ cert, key string } // file names

// selfSigned makes the certificate Pebble serves its own HTTPS with, so
// that the test decides whom its ACME client trusts.
func selfSigned(t testing.TB, dir string) (keyPair, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pebbletest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	kp := keyPair{cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	writePEM(t, kp.cert, "CERTIFICATE", der)
	writePEM(t, kp.key, "EC PRIVATE KEY", keyDER)
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return kp, roots
}

func writePEM(t testing.TB, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
