// Package mailtest starts mailpit, a real SMTP server with an HTTP API to
// read what arrived, for the tests of whatever sends mail.
package mailtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Path finds the mailpit binary: BOXOFFICE_MAILPIT, or on PATH. Without
// it the test skips, except in CI, which installs it.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BOXOFFICE_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no mailpit for the mail tests: go install github.com/axllent/mailpit@v1.33.1, or set BOXOFFICE_MAILPIT")
	}
	t.Skip("no mailpit on this machine (go install github.com/axllent/mailpit@v1.33.1, or set BOXOFFICE_MAILPIT); skipping")
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

// Pit is a running mailpit.
type Pit struct{ SMTPPort, HTTPPort int }

// Start starts mailpit taking SMTP on smtpPort (0: any free one), and
// stops it when the test ends.
func Start(t testing.TB, smtpPort int) *Pit {
	t.Helper()
	path := Path(t)
	if smtpPort == 0 {
		smtpPort = FreePort(t)
	}
	p := &Pit{SMTPPort: smtpPort, HTTPPort: FreePort(t)}
	cmd := exec.Command(path, "--smtp", fmt.Sprintf("127.0.0.1:%d", p.SMTPPort), "--listen", fmt.Sprintf("127.0.0.1:%d", p.HTTPPort),
		"--database", t.TempDir()+"/mailpit.db", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.SMTPPort)); err == nil {
			c.Close()
			if res, err := http.Get(p.api("/messages")); err == nil {
				res.Body.Close()
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start")
		}
	}
}

// SMTPURL is BOXOFFICE_SMTP_URL for a server on port, without TLS.
func SMTPURL(port int) string {
	return fmt.Sprintf("smtp://127.0.0.1:%d?from=tickets@boxoffice.test&tls=none", port)
}

func (p *Pit) api(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/api/v1%s", p.HTTPPort, path)
}

// Arrived is a message as mailpit lists it.
type Arrived struct {
	ID        string
	MessageID string
	Subject   string
}

// Messages lists what arrived, newest first.
func (p *Pit) Messages(t testing.TB) []Arrived {
	t.Helper()
	var out struct{ Messages []Arrived }
	p.get(t, "/messages", &out)
	return out.Messages
}

// Message is one message whole: its text, HTML and attachments.
type Message struct {
	Text, HTML  string
	Attachments []struct{ FileName string }
}

// Message reads message id.
func (p *Pit) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	p.get(t, "/message/"+id, &m)
	return m
}

// Headers reads the headers of message id.
func (p *Pit) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	p.get(t, "/message/"+id+"/headers", &h)
	return h
}

func (p *Pit) get(t testing.TB, path string, into any) {
	t.Helper()
	res, err := http.Get(p.api(path))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}
