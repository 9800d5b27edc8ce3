package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	gomail "github.com/wneessen/go-mail"

	"github.com/boxoffice/boxoffice/app/locale"
)

// SMTP is where mail goes, from BOXOFFICE_SMTP_URL:
// smtp://user:password@host:587?from=tickets@example.com (STARTTLS, which
// is required), or …?tls=none for a server on the same machine.
type SMTP struct {
	Host           string
	Port           int
	User, Password string
	From           string
	NoTLS          bool
}

// ParseSMTP reads an SMTP URL; empty is no SMTP.
func ParseSMTP(raw string) (*SMTP, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, errors.New("BOXOFFICE_SMTP_URL must look like smtp://user:password@host:587?from=tickets@example.com")
	}
	s := &SMTP{Host: u.Hostname(), Port: 587, From: u.Query().Get("from"), NoTLS: u.Query().Get("tls") == "none"}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("BOXOFFICE_SMTP_URL: port %q", p)
		}
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if s.From == "" {
		return nil, errors.New("BOXOFFICE_SMTP_URL needs the sender: …?from=tickets@example.com")
	}
	return s, nil
}

// Sender delivers the outbox.
type Sender struct {
	pool *pgxpool.Pool
	smtp *SMTP // nil: to the log
	now  func() time.Time
	log  *slog.Logger
	// Every is how often it looks for mail to send (default 1 s).
	Every time.Duration
	// Render draws a message written as its kind and payload (no text):
	// subject, text, HTML and attachments, in the language of its context
	// (locale.From), which is the message's. A message it cannot draw any
	// more (what it was about is gone) is an ErrNothingToSay.
	Render func(ctx context.Context, kind string, payload []byte) (Message, error)
}

// ErrNothingToSay is Render's answer for a message that need not go out.
var ErrNothingToSay = errors.New("nothing to say")

// NewSender returns the sender of the outbox on pool through smtp (nil:
// written to the log).
func NewSender(pool *pgxpool.Pool, smtp *SMTP, now func() time.Time, log *slog.Logger) *Sender {
	return &Sender{pool: pool, smtp: smtp, now: now, log: log, Every: time.Second}
}

// Run sends what is due until ctx ends. Several processes may run one:
// each claims its messages with a lock that skips the others'.
func (s *Sender) Run(ctx context.Context) {
	if s.smtp == nil {
		s.log.Warn("mail: no SMTP server (BOXOFFICE_SMTP_URL): messages are written to the log, not sent")
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("mail: sending the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lease is how long a claimed message is left to its sender before
// another may try it (a sender that dies mid-send).
const lease = 2 * time.Minute

type queued struct {
	id          int64
	messageID   string
	kind, to    string
	subject     string
	text, html  string
	attachments []byte
	payload     []byte
	attempts    int
	language    string
}

// SendDue sends up to 50 messages that are due and reports how many went.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `
		UPDATE outbox o SET next_at = $2, attempts = o.attempts + 1
		FROM (SELECT id FROM outbox WHERE sent_at IS NULL AND next_at <= $1 ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id
		RETURNING o.id, o.message_id, o.kind, o.to_addr, o.subject, o.text_body, o.html_body, o.attachments, o.payload, o.attempts, o.language`, now, now.Add(lease))
	if err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}
	var batch []queued
	var q queued
	if _, err := pgx.ForEachRow(rows, []any{&q.id, &q.messageID, &q.kind, &q.to, &q.subject, &q.text, &q.html, &q.attachments, &q.payload, &q.attempts, &q.language}, func() error {
		batch = append(batch, q)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}
	sent := 0
	for _, q := range batch {
		err := s.deliver(ctx, q)
		if errors.Is(err, ErrNothingToSay) {
			s.log.Info("mail: nothing to say any more; not sent", "id", q.id, "kind", q.kind)
			err = nil
		}
		if err == nil {
			sent++
			_, err = s.pool.Exec(ctx, `UPDATE outbox SET sent_at = $2, last_error = '',
				text_body = CASE WHEN secret THEN '' ELSE text_body END, html_body = CASE WHEN secret THEN '' ELSE html_body END
				WHERE id = $1`, q.id, s.now())
			if err != nil {
				return sent, fmt.Errorf("mark mail %d sent: %w", q.id, err)
			}
			continue
		}
		wait := backoff(q.attempts)
		s.log.Warn("mail: not sent; trying again later", "id", q.id, "kind", q.kind, "attempt", q.attempts, "again_in", wait, "err", err)
		if _, err := s.pool.Exec(ctx, `UPDATE outbox SET next_at = $2, last_error = $3 WHERE id = $1`,
			q.id, s.now().Add(wait), err.Error()); err != nil {
			return sent, fmt.Errorf("reschedule mail %d: %w", q.id, err)
		}
	}
	return sent, nil
}

// backoff is the wait after the attempt-th failure: 5 s, doubling, at
// most an hour.
func backoff(attempt int) time.Duration {
	d := 5 * time.Second
	for range min(attempt-1, 10) {
		d *= 2
	}
	return min(d, time.Hour)
}

func (s *Sender) deliver(ctx context.Context, q queued) error {
	var attachments []Attachment
	if err := json.Unmarshal(q.attachments, &attachments); err != nil {
		return fmt.Errorf("attachments of mail %d: %w", q.id, err)
	}
	lang := language(q.language)
	if q.text == "" && s.Render != nil {
		m, err := s.Render(locale.With(ctx, lang), q.kind, q.payload)
		if err != nil {
			return err
		}
		q.subject, q.text, q.html, attachments = m.Subject, m.Text, m.HTML, m.Attachments
	}
	if s.smtp == nil {
		s.log.Info("mail (not sent: no SMTP server)", "kind", q.kind, "to", q.to, "subject", q.subject, "language", lang.Code, "message_id", q.messageID)
		return nil
	}
	m := gomail.NewMsg()
	if err := m.From(s.smtp.From); err != nil {
		return err
	}
	if err := m.To(q.to); err != nil {
		return err
	}
	m.Subject(q.subject)
	m.SetGenHeader(gomail.HeaderContentLang, lang.Code)
	m.SetMessageIDWithValue(trimAngles(q.messageID))
	m.SetBodyString(gomail.TypeTextPlain, q.text)
	if q.html != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, q.html)
	}
	for _, a := range attachments {
		if err := m.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.Type))); err != nil {
			return err
		}
	}
	opts := []gomail.Option{gomail.WithPort(s.smtp.Port), gomail.WithTimeout(20 * time.Second)}
	if s.smtp.NoTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.smtp.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.smtp.User), gomail.WithPassword(s.smtp.Password))
	}
	c, err := gomail.NewClient(s.smtp.Host, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, m)
}

func trimAngles(id string) string {
	if len(id) > 2 && id[0] == '<' && id[len(id)-1] == '>' {
		return id[1 : len(id)-1]
	}
	return id
}
