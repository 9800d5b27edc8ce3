package https

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
)

// caTransport logs what the CA says when it turns something down. autocert
// keeps those words to itself: a failed renewal is retried half an hour
// later without a trace, and a failed challenge ends as "no viable
// challenge type found". The CA's own words (which name, which check,
// what it saw) are what an operator needs to fix DNS or a firewall, so we
// read them off the wire. Nothing is changed: the body is handed on whole.
type caTransport struct {
	next http.RoundTripper
	log  *slog.Logger

	mu     sync.Mutex
	logged map[string]bool // authorization and order URLs already reported
}

// caProblem is an ACME problem document (RFC 8555 section 6.7).
type caProblem struct {
	Type        string
	Detail      string
	Subproblems []struct {
		Type, Detail string
		Identifier   struct{ Value string }
	}
}

// caObject is the part of an ACME authorization or order that says why it
// failed: an authorization names one domain and carries an error per
// challenge, an order names its domains and carries one error.
type caObject struct {
	Status      string
	Identifier  struct{ Value string }
	Identifiers []struct{ Value string }
	Challenges  []struct {
		Type  string
		Error *caProblem
	}
	Error *caProblem
}

// maxRead bounds what is read of a response: ACME objects are a few
// kilobytes.
const maxRead = 1 << 20

// RoundTrip passes r on, and reads the CA's JSON answer to log a refusal.
func (t *caTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if err != nil {
		t.log.Warn("https: cannot reach the ACME CA", "url", r.URL.String(), "err", err)
		return nil, err
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if ct != "application/problem+json" && ct != "application/json" {
		return res, nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxRead))
	if err != nil {
		res.Body.Close()
		return nil, err
	}
	if len(body) == maxRead { // not an ACME object: hand it on unread
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), res.Body), res.Body}
		return res, nil
	}
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if ct == "application/problem+json" {
		t.problem(r, res.StatusCode, body)
	} else {
		t.object(r, body)
	}
	return res, nil
}

// problem logs a request the CA refused. A bad nonce is routine: the CA
// asks for a retry and the client makes it.
func (t *caTransport) problem(r *http.Request, status int, body []byte) {
	var p caProblem
	if json.Unmarshal(body, &p) != nil {
		return
	}
	if p.Type == "urn:ietf:params:acme:error:badNonce" {
		t.log.Debug("https: the ACME CA asks for a retry", "detail", p.Detail)
		return
	}
	attrs := []any{"status", status, "type", p.Type, "detail", p.Detail, "url", r.URL.String()}
	for _, s := range p.Subproblems {
		attrs = append(attrs, "domain", s.Identifier.Value, "sub_detail", s.Detail)
	}
	t.log.Error("https: the ACME CA refused", attrs...)
}

// object logs an authorization or order the CA has marked invalid, once:
// the client fetches it again to clean up.
func (t *caTransport) object(r *http.Request, body []byte) {
	var o caObject
	if json.Unmarshal(body, &o) != nil || o.Status != "invalid" || !t.first(r.URL.String()) {
		return
	}
	for _, c := range o.Challenges {
		if c.Error != nil {
			t.log.Error("https: the ACME CA could not validate the domain", "domain", o.Identifier.Value, "challenge", c.Type, "type", c.Error.Type, "detail", c.Error.Detail)
		}
	}
	if o.Error != nil {
		var domains []string
		for _, id := range o.Identifiers {
			domains = append(domains, id.Value)
		}
		t.log.Error("https: the ACME CA gave up on the order", "domains", domains, "type", o.Error.Type, "detail", o.Error.Detail)
	}
}

// first reports whether url has not been reported yet. The set is kept
// small: failures are few (the CA's limits see to that), and forgetting
// one only means a repeated line.
func (t *caTransport) first(url string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.logged[url] {
		return false
	}
	if t.logged == nil || len(t.logged) > 100 {
		t.logged = map[string]bool{}
	}
	t.logged[url] = true
	return true
}
