package search

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/boxoffice/boxoffice/app/event"
)

// What a fan types is read the way a person at a box office would: words
// that name an event type, a city, a venue or a performer act as that
// filter ("comedy", "concert chicago", "family shows in berlin"), and the
// rest stays keywords. Verbatim turns it off.

// typeWords are the words fans use for each event type.
var typeWords = map[string]string{
	"concert": event.TypeConcert, "concerts": event.TypeConcert, "gig": event.TypeConcert, "gigs": event.TypeConcert,
	"music": event.TypeConcert, "live music": event.TypeConcert,
	"sport": event.TypeSports, "sports": event.TypeSports, "game": event.TypeSports, "games": event.TypeSports,
	"match": event.TypeSports, "matches": event.TypeSports,
	"theater": event.TypeTheater, "theatre": event.TypeTheater, "theaters": event.TypeTheater, "theatres": event.TypeTheater,
	"comedy": event.TypeComedy, "comedian": event.TypeComedy, "comedians": event.TypeComedy,
	"stand up": event.TypeComedy, "standup": event.TypeComedy, "stand-up": event.TypeComedy,
	"family": event.TypeFamily, "families": event.TypeFamily, "kids": event.TypeFamily, "children": event.TypeFamily,
}

// fillers are words that say nothing once the rest of a query has been
// understood: "family shows in berlin" is family events in Berlin.
var fillers = map[string]bool{
	"in": true, "at": true, "near": true, "on": true, "for": true, "the": true, "a": true,
	"show": true, "shows": true, "event": true, "events": true, "ticket": true, "tickets": true,
}

// A meaning is what a phrase names.
type meaning struct {
	kind  int // one of the kinds below
	value string
}

const (
	kindType = iota + 1
	kindCity
	kindVenue
	kindPerformer
)

// vocabulary maps the folded phrases of the catalogue (cities, venue and
// performer names) and of typeWords to what they name.
type vocabulary struct {
	phrases  map[string]meaning
	maxWords int // the longest phrase, in words
}

// vocabularyTTL is how long the catalogue's names are reused: a venue or
// performer added by an organiser is understood within a minute.
const vocabularyTTL = time.Minute

// vocabCache keeps the vocabulary. The first search loads it; later ones
// use it while it is reloaded in the background when stale, so that no
// search waits for the catalogue's names after the first.
type vocabCache struct {
	read func() *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	loaded  time.Time
	loading bool
	vocab   *vocabulary
}

// get returns the vocabulary, loading it the first time.
func (w *vocabCache) get(ctx context.Context) (*vocabulary, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.vocab == nil {
		v, err := loadVocabulary(ctx, w.read())
		if err != nil {
			return nil, err
		}
		w.vocab, w.loaded = v, w.now()
	}
	if w.now().Sub(w.loaded) >= vocabularyTTL && !w.loading {
		w.loading = true
		go w.reload()
	}
	return w.vocab, nil
}

func (w *vocabCache) reload() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := loadVocabulary(ctx, w.read())
	w.mu.Lock()
	defer w.mu.Unlock()
	w.loading = false
	if err != nil {
		w.loaded = w.now() // try again after another while, with the names we have
		w.log.Warn("search: reloading the names of venues and performers failed; using the ones loaded before", "err", err)
		return
	}
	w.vocab, w.loaded = v, w.now()
}

func loadVocabulary(ctx context.Context, pool *pgxpool.Pool) (*vocabulary, error) {
	v := &vocabulary{phrases: map[string]meaning{}}
	var add func(phrase string, m meaning)
	add = func(phrase string, m meaning) {
		words := foldWords(phrase)
		if len(words) == 0 {
			return
		}
		if len(words) > 2 && words[0] == "the" && m.kind != kindType { // not "The Who"
			add(strings.Join(words[1:], " "), m) // "lantern club" is The Lantern Club
		}
		key := strings.Join(words, " ")
		// A performer's name wins over a venue's, a venue's over a city
		// ("Real Madrid" is the team), anything over a type word.
		if old, ok := v.phrases[key]; ok && old.kind >= m.kind {
			return
		}
		v.phrases[key] = m
		v.maxWords = max(v.maxWords, len(words))
	}
	for word, typ := range typeWords {
		add(word, meaning{kindType, typ})
	}
	rows, err := pool.Query(ctx, `
		SELECT DISTINCT city, 'city' FROM venues
		UNION ALL SELECT name, 'venue' FROM venues
		UNION ALL SELECT name, 'performer' FROM performers`)
	if err != nil {
		return nil, fmt.Errorf("load names: %w", err)
	}
	var name, kind string
	_, err = pgx.ForEachRow(rows, []any{&name, &kind}, func() error {
		switch kind {
		case "city":
			add(name, meaning{kindCity, name})
		case "venue":
			add(name, meaning{kindVenue, name})
		default:
			add(name, meaning{kindPerformer, name})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load names: %w", err)
	}
	return v, nil
}

// known reports whether a word is one the vocabulary gives a meaning or
// that a query may hold without meaning anything: spelling correction
// leaves such words alone ("comedy" is never corrected to "comets").
func (v *vocabulary) known(word string) bool {
	w := strings.Join(foldWords(word), " ")
	_, ok := v.phrases[w]
	return ok || fillers[w]
}

// folder lower-cases and strips accents: "São Paulo" is "sao paulo". A
// chain keeps state, so each use needs its own.
func folder() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// foldWords splits s into folded words, dropping punctuation; a hyphen
// joins ("stand-up" is one word, as fans type it either way).
func foldWords(s string) []string {
	folded, _, err := transform.String(folder(), strings.ToLower(s))
	if err != nil {
		folded = strings.ToLower(s)
	}
	return strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '-'
	})
}

// understand reads the words of q.Text that name a filter the fan has not
// set, longest phrase first, and returns the query with those filters set
// and the words left as keywords. ok is false when nothing was understood
// or q.Text uses search syntax ("quotes", -word, or), which is taken as typed.
func (v *vocabulary) understand(q Query) (Query, bool) {
	if q.Text == "" || q.Verbatim || strings.Contains(q.Text, `"`) {
		return q, false
	}
	for _, w := range strings.Fields(q.Text) {
		if strings.HasPrefix(w, "-") || strings.EqualFold(w, "or") {
			return q, false
		}
	}
	words := foldWords(q.Text)
	out := q
	var rest []string
	found := false
	for i := 0; i < len(words); {
		n, m := v.longest(words[i:])
		switch {
		case n > 0 && m.kind == kindType && (out.Type == "" || out.Type == m.value):
			out.Type = m.value // "stand up comedy" says comedy twice
		case n > 0 && (m.kind == kindCity || m.kind == kindVenue) && (out.Location == "" || out.Location == m.value):
			out.Location = m.value
		case n > 0 && m.kind == kindPerformer && (out.Performer == "" || out.Performer == m.value):
			out.Performer = m.value
		default:
			rest = append(rest, words[i])
			i++
			continue
		}
		found = true
		i += n
	}
	if !found {
		return q, false
	}
	kept := rest[:0]
	for _, w := range rest {
		if !fillers[w] {
			kept = append(kept, w)
		}
	}
	out.Text = strings.Join(kept, " ")
	return out, true
}

// longest finds the longest phrase at the start of words that names
// something, and how many words it takes.
func (v *vocabulary) longest(words []string) (int, meaning) {
	for n := min(len(words), v.maxWords); n > 0; n-- {
		if m, ok := v.phrases[strings.Join(words[:n], " ")]; ok {
			return n, m
		}
	}
	return 0, meaning{}
}

// closeType returns the type word a misspelt word was meant to be ("comdy"
// is comedy), or "": one letter off, or two for longer words. Short words
// are too close to too many ("kiss" is not "kids").
func closeType(word string) string {
	w := strings.Join(foldWords(word), " ")
	if len([]rune(w)) < 5 {
		return ""
	}
	best, bestD := "", 3
	for t := range typeWords {
		limit := 1
		if len(t) >= 7 {
			limit = 2
		}
		if d := distance(w, t); d <= limit && (d < bestD || d == bestD && t < best) {
			best, bestD = t, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
