package templates

import "net/url"

func authTitle(signUp bool) string {
	if signUp {
		return "Sign up"
	}
	return "Log in"
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
