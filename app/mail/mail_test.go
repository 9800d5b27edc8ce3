package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/mail/mailtest"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func enqueue(t *testing.T, ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, ms ...mail.Message) {
	t.Helper()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := mail.Enqueue(ctx, tx, m, "boxoffice.test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Messages written in a transaction go out through SMTP, text, HTML and
// attachments; one written in a transaction rolled back never does.
func TestOutboxDelivers(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	pit := mailtest.Start(t, 0)
	enqueue(t, ctx, pool, mail.Message{Kind: "confirmation", To: "fan@example.com", Subject: "Your tickets", Text: "Booking 1 is confirmed.",
		HTML: "<p>Booking <b>1</b> is confirmed.</p>", Attachments: []mail.Attachment{{Name: "event.ics", Type: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}})
	tx, _ := pool.Begin(ctx)
	mail.Enqueue(ctx, tx, mail.Message{Kind: "refund", To: "fan@example.com", Subject: "Never sent", Text: "…"}, "boxoffice.test")
	tx.Rollback(ctx)

	smtp, err := mail.ParseSMTP(fmt.Sprintf("smtp://user:secret@127.0.0.1:%d?from=tickets@boxoffice.test&tls=none", pit.SMTPPort))
	if err != nil {
		t.Fatal(err)
	}
	s := mail.NewSender(pool, smtp, time.Now, quiet)
	if n, err := s.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("send: %d, %v", n, err)
	}
	got := pit.Messages(t)
	if len(got) != 1 || got[0].Subject != "Your tickets" {
		t.Fatalf("arrived: %+v", got)
	}
	var messageID string
	dbtest.QueryRow(t, pool, `SELECT message_id FROM outbox`).Scan(&messageID)
	if "<"+got[0].MessageID+">" != messageID {
		t.Errorf("Message-ID %q, the outbox says %q", got[0].MessageID, messageID)
	}
	whole := pit.Message(t, got[0].ID)
	if !strings.Contains(whole.Text, "Booking 1 is confirmed.") || !strings.Contains(whole.HTML, "<b>1</b>") ||
		len(whole.Attachments) != 1 || whole.Attachments[0].FileName != "event.ics" {
		t.Errorf("the message: %+v", whole)
	}
	if n, _ := s.SendDue(ctx); n != 0 || len(pit.Messages(t)) != 1 {
		t.Errorf("a second round sent %d more", n)
	}
}

// An SMTP server that is down: the message waits, longer after each
// failure, and goes out once the server is back, with its Message-ID.
// A sender that dies after claiming a message leaves it to another once
// its claim runs out.
func TestOutboxRetriesUntilTheServerIsBack(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	port := mailtest.FreePort(t) // nothing listens there yet
	smtp, _ := mail.ParseSMTP(fmt.Sprintf("smtp://127.0.0.1:%d?from=tickets@boxoffice.test&tls=none", port))
	c := &clock{t: time.Now()}
	s := mail.NewSender(pool, smtp, c.now, quiet)
	enqueue(t, ctx, pool, mail.Message{Kind: "refund", To: "fan@example.com", Subject: "Your refund", Text: "£20.00 is on its way back."})
	c.add(time.Second) // the sender's clock a moment after the message was written
	for attempt := 1; attempt <= 3; attempt++ {
		if n, err := s.SendDue(ctx); err != nil || n != 0 {
			t.Fatalf("attempt %d with the server down: sent %d, %v", attempt, n, err)
		}
		var attempts int
		var next time.Time
		var why string
		dbtest.QueryRow(t, pool, `SELECT attempts, next_at, last_error FROM outbox`).Scan(&attempts, &next, &why)
		if wait := next.Sub(c.now()); attempts != attempt || why == "" || wait < 4*time.Second<<(attempt-1) || wait > 6*time.Second<<(attempt-1) {
			t.Errorf("after failure %d: attempts %d, next in %v, error %q", attempt, attempts, wait, why)
		}
		if n, _ := s.SendDue(ctx); n != 0 { // not due yet: nothing tried
			t.Errorf("tried again before its time")
		}
		c.add(time.Minute)
	}
	pit := mailtest.Start(t, port)
	if n, err := s.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("with the server back: sent %d, %v", n, err)
	}
	var messageID string
	dbtest.QueryRow(t, pool, `SELECT message_id FROM outbox`).Scan(&messageID)
	if got := pit.Messages(t); len(got) != 1 || "<"+got[0].MessageID+">" != messageID {
		t.Errorf("arrived: %+v, want one with %s", got, messageID)
	}

	// A claim by a sender that died: the message is another's after the lease.
	enqueue(t, ctx, pool, mail.Message{Kind: "cancelled", To: "fan@example.com", Subject: "Cancelled", Text: "The event is cancelled."})
	dbtest.Exec(t, pool, `UPDATE outbox SET next_at = $1, attempts = 1 WHERE sent_at IS NULL`, c.now().Add(2*time.Minute))
	other := mail.NewSender(pool, smtp, c.now, quiet) // the restarted process
	if n, _ := other.SendDue(ctx); n != 0 {
		t.Error("a message claimed by a live sender was sent by another")
	}
	c.add(3 * time.Minute)
	if n, err := other.SendDue(ctx); err != nil || n != 1 || len(pit.Messages(t)) != 2 {
		t.Errorf("after the dead sender's claim ran out: sent %d, %v", n, err)
	}
}

// Without SMTP the outbox drains to the log.
func TestOutboxWithoutSMTP(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	enqueue(t, ctx, pool, mail.Message{Kind: "password_reset", To: "fan@example.com", Subject: "Reset", Text: "…"})
	var log strings.Builder
	s := mail.NewSender(pool, nil, time.Now, slog.New(slog.NewTextHandler(&log, nil)))
	if n, err := s.SendDue(ctx); err != nil || n != 1 || !strings.Contains(log.String(), "not sent: no SMTP server") {
		t.Errorf("without SMTP: %d, %v, log %q", n, err, log.String())
	}
	if _, err := mail.ParseSMTP("smtp://host:587"); err == nil {
		t.Error("an SMTP URL without a sender was taken")
	}
	if err := mail.Enqueue(ctx, pool, mail.Message{Kind: "x", To: "not an address", Subject: "s", Text: "t"}, "boxoffice.test"); err == nil {
		t.Error("a message to a bad address was written")
	}
}

// A message is drawn in its language, the fan's, and says which it is
// (Content-Language); a language Boxoffice does not speak is English.
func TestOutboxSpeaksTheFansLanguage(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	pit := mailtest.Start(t, 0)
	enqueue(t, ctx, pool,
		mail.Message{Kind: "drawn", To: "ana@example.com", Language: "es", Payload: map[string]any{"n": 1}},
		mail.Message{Kind: "written", To: "ken@example.com", Language: "ja", Subject: "件名", Text: "本文"},
		mail.Message{Kind: "drawn", To: "jo@example.com", Language: "xx", Payload: map[string]any{"n": 2}})
	if got := dbtest.Int(t, pool, `SELECT count(*) FROM outbox WHERE language = 'en'`); got != 1 {
		t.Errorf("%d messages kept in English, want the one in a language Boxoffice does not speak", got)
	}
	smtp, _ := mail.ParseSMTP(mailtest.SMTPURL(pit.SMTPPort))
	s := mail.NewSender(pool, smtp, time.Now, quiet)
	s.Render = func(ctx context.Context, kind string, payload []byte) (mail.Message, error) {
		l := locale.From(ctx)
		return mail.Message{Subject: l.T("mail.reset_subject"), Text: l.Code}, nil
	}
	if n, err := s.SendDue(ctx); err != nil || n != 3 {
		t.Fatalf("send: %d, %v", n, err)
	}
	want := map[string]string{"Elige una contraseña nueva": "es", "件名": "ja", "Set a new password": "en"}
	for _, m := range pit.Messages(t) {
		lang, ok := want[m.Subject]
		if !ok {
			t.Errorf("arrived %q", m.Subject)
			continue
		}
		if got := pit.Headers(t, m.ID)["Content-Language"]; len(got) != 1 || got[0] != lang {
			t.Errorf("%q: Content-Language %v, want %s", m.Subject, got, lang)
		}
	}
}
