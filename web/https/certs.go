package https

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// CertInfo is one certificate in the cache, as `boxoffice status` and
// /metrics show it.
type CertInfo struct {
	Domain string
	// Key is "ecdsa", or "rsa" for the second certificate autocert gets
	// for a domain once a client that cannot do ECDSA asks for it.
	Key string
	// Found is false while the domain has no certificate yet.
	Found               bool
	NotBefore, NotAfter time.Time
	// Issuer is the issuing CA's name, e.g. "CN=R12,O=Let's Encrypt,C=US".
	Issuer string
	// Serial is the serial number in hex, as browsers show it.
	Serial string
}

// Certificates reads what the cache holds for each domain; it needs no
// network, and reports the cache rather than memory, which a renewal
// updates along with the certificate being served.
func (m *Manager) Certificates() ([]CertInfo, error) {
	return ReadCache(m.cacheDir, m.domains)
}

// ReadCache reads the certificates autocert keeps in dir for domains,
// without a Manager: for a command that only reports expiry. Each domain
// has an ECDSA entry (Found false if there is none yet), followed by an
// RSA one if autocert got one. A file that is there but unreadable is an
// error: the site may be serving a certificate nobody can check.
func ReadCache(dir string, domains []string) ([]CertInfo, error) {
	domains, err := checkDomains(domains)
	if err != nil {
		return nil, err
	}
	var out []CertInfo
	for _, d := range domains {
		for _, kind := range []string{"ecdsa", "rsa"} {
			info, err := readCert(dir, d, kind)
			if err != nil {
				return nil, err
			}
			if info.Found || kind == "ecdsa" {
				out = append(out, info)
			}
		}
	}
	return out, nil
}

// cacheKey is the file autocert keeps a domain's certificate in
// (autocert's certKey.String): the name itself for ECDSA, name+rsa for RSA.
func cacheKey(domain, kind string) string {
	if kind == "rsa" {
		return domain + "+rsa"
	}
	return domain
}

func readCert(dir, domain, kind string) (CertInfo, error) {
	info := CertInfo{Domain: domain, Key: kind}
	path := filepath.Join(dir, cacheKey(domain, kind))
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("certificate cache: %w", err)
	}
	leaf, err := parseCached(data)
	if err != nil {
		return info, fmt.Errorf("certificate cache %s: %w", path, err)
	}
	info.Found = true
	info.NotBefore, info.NotAfter = leaf.NotBefore, leaf.NotAfter
	info.Issuer = leaf.Issuer.String()
	info.Serial = fmt.Sprintf("%X", leaf.SerialNumber)
	return info, nil
}

// parseCached reads the leaf of a cache entry in autocert's layout: the
// private key as PEM, then the chain as CERTIFICATE blocks, leaf first.
func parseCached(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no certificate in it")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// loggedCache is autocert's DirCache, saying when a certificate arrives:
// autocert itself is silent about both a first certificate and a renewal.
type loggedCache struct {
	autocert.DirCache
	domains []string
	log     *slog.Logger
}

// Put stores data and, for a domain's certificate (not the account key or
// a challenge token), logs what was stored.
func (c loggedCache) Put(ctx context.Context, key string, data []byte) error {
	err := c.DirCache.Put(ctx, key, data)
	domain, _ := strings.CutSuffix(key, "+rsa")
	if !slices.Contains(c.domains, domain) {
		return err
	}
	if err != nil {
		c.log.Error("https: cannot keep the certificate; a restart will ask the CA again", "domain", domain, "err", err)
		return err
	}
	if leaf, perr := parseCached(data); perr == nil {
		c.log.Info("https: new certificate", "domain", domain, "not_after", leaf.NotAfter, "issuer", leaf.Issuer.String())
	}
	return nil
}
