package templates

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/boxoffice/boxoffice/app/event"
)

// trMarkup is tr for a sentence with elements in it (a <strong>, a
// countdown): an argument that is a templ.Component is drawn where its
// field is, so that each language puts it where its grammar wants; the
// message's own text is escaped, as every other.
func trMarkup(ctx context.Context, id string, args ...any) templ.Component {
	args, parts := markArgs(args)
	return markup(tr(ctx, id, args...), parts)
}

// trnMarkup is trMarkup for a plural message of n things.
func trnMarkup(ctx context.Context, id string, n int, args ...any) templ.Component {
	args, parts := markArgs(args)
	return markup(trn(ctx, id, n, args...), parts)
}

// markArgs stands a mark in for each component among args (name, value
// pairs), to find it in the message once filled.
func markArgs(args []any) ([]any, []templ.Component) {
	out := slices.Clone(args)
	var parts []templ.Component
	for i := 1; i < len(out); i += 2 {
		if c, ok := out[i].(templ.Component); ok {
			out[i] = fieldMark + strconv.Itoa(len(parts)) + fieldMark
			parts = append(parts, c)
		}
	}
	return out, parts
}

func markup(s string, parts []templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for i, piece := range strings.Split(s, fieldMark) {
			if i%2 == 0 {
				if _, err := io.WriteString(w, templ.EscapeString(piece)); err != nil {
					return err
				}
				continue
			}
			if n, err := strconv.Atoi(piece); err == nil && n >= 0 && n < len(parts) {
				if err := parts[n].Render(ctx, w); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// trOr is the message id, or fallback when the catalogs have none (a
// value a form or an import let in that they do not name).
func trOr(ctx context.Context, id, fallback string) string {
	if s := tr(ctx, id); s != id {
		return s
	}
	return fallback
}

// lineupHeading is the heading over who plays: the teams of a game, the
// line-up of a show.
func lineupHeading(ctx context.Context, e *event.Event) string {
	if e.Type == event.TypeSports {
		return tr(ctx, "event.teams")
	}
	return tr(ctx, "event.lineup")
}

// performerRole is a performer's part in an event: "Headliner", "Home".
func performerRole(ctx context.Context, role string) string {
	return trOr(ctx, "event.role."+role, role)
}

// performerKind is what a performer is: "Band", "Team".
func performerKind(ctx context.Context, kind string) string {
	return trOr(ctx, "place.kind."+kind, kind)
}

// sectionList names a venue's sections in a sentence: "Stalls, Circle".
func sectionList(ctx context.Context, sections []event.Section) string {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = sectionName(ctx, s.Name)
	}
	return strings.Join(names, tr(ctx, "place.list_separator"))
}
