package templates

import (
	"context"
	"net/url"
)

func authTitle(ctx context.Context, signUp bool) string {
	if signUp {
		return tr(ctx, "account.sign_up")
	}
	return tr(ctx, "account.log_in")
}

// resetTitle heads the forgotten-password form, or the form that sets the
// new password with a link's token.
func resetTitle(ctx context.Context, token string) string {
	if token == "" {
		return tr(ctx, "account.forgot_password")
	}
	return tr(ctx, "account.choose_password")
}

func authAction(signUp bool) string {
	if signUp {
		return "/signup"
	}
	return "/login"
}

// withNext is path with a next parameter to come back to, unless there is
// nowhere in particular to come back to.
func withNext(path, next string) string {
	if next == "" || next == "/" || next == "/login" || next == "/signup" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}
