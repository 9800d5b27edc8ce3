package templates

import "context"

// Request is what every page needs to know about the request it answers:
// who is signed in and the form token that proves a form came from us.
type Request struct {
	CSRF     string // token for the _csrf field of forms
	UserName string // "" when nobody is signed in
	Path     string // the page's own address, to come back to after signing in
}

type requestKey struct{}

// WithRequest returns ctx carrying r for the components rendered with it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestOf(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
