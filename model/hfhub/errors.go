package hfhub

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gpuplan/gpuplan/internal/termtext"
)

// Error kinds, for errors.Is.
var (
	// ErrNotFound: the repository, revision or file does not exist (or is
	// private and no token with access was given).
	ErrNotFound = errors.New("not found on the Hugging Face Hub")
	// ErrAccess: the repository is gated or private and the request was
	// not authorised.
	ErrAccess = errors.New("access denied by the Hugging Face Hub")
	// ErrNetwork: the Hub could not be reached.
	ErrNetwork = errors.New("network error")
	// ErrNotCached: an offline client lacks the file in its cache.
	ErrNotCached = errors.New("not in the local cache")
	// ErrTooLarge: a response exceeded the client's size limit.
	ErrTooLarge = errors.New("response too large")
	// ErrHTTP: any other unsuccessful HTTP status.
	ErrHTTP = errors.New("HTTP error")
)

// Error is a failed Hub request, with a message that says what to do.
type Error struct {
	// Kind is one of the Err* values above.
	Kind error
	// URL is the requested URL.
	URL string
	// Status is the HTTP status (0 for network and cache errors).
	Status int
	// Code is the Hub's X-Error-Code header ("GatedRepo", "RepoNotFound",
	// "RevisionNotFound", "EntryNotFound"), when sent.
	Code string
	// Msg is the full explanation.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// target names what a request was for, in messages.
type target struct {
	repo, revision, file string // empty repo: a plain URL
	url                  string
}

func (t target) String() string {
	if t.repo == "" {
		return t.url
	}
	return fmt.Sprintf("%s in %s@%s", t.file, t.repo, t.revision)
}

// statusError turns an unsuccessful response into an Error whose message
// tells the user what to do next. Code and message come from the Hub's
// X-Error-Code / X-Error-Message headers (read by huggingface_hub's
// hf_raise_for_status).
func (c *Client) statusError(t target, status int, h http.Header) *Error {
	code := h.Get("X-Error-Code")
	hubMsg := clean(h.Get("X-Error-Message"))
	e := &Error{URL: t.url, Status: status, Code: code}
	suffix := ""
	if hubMsg != "" && !c.OmitServerMessages {
		suffix = fmt.Sprintf(" (Hub says: %s)", hubMsg)
	}
	repoPage := t.url
	if t.repo != "" {
		repoPage = c.RepoURL(t.repo)
	}
	switch {
	case code == "RepoNotFound":
		e.Kind = ErrNotFound
		e.Msg = fmt.Sprintf("repository %s not found on %s (HTTP %d): check the id; if the repository is private, set HF_TOKEN to a token that can read it%s", t.repo, c.endpoint(), status, suffix)
	case code == "RevisionNotFound":
		e.Kind = ErrNotFound
		e.Msg = fmt.Sprintf("revision %q of %s not found (HTTP %d): check the branch, tag or commit after '@'%s", t.revision, t.repo, status, suffix)
	case code == "EntryNotFound":
		e.Kind = ErrNotFound
		e.Msg = fmt.Sprintf("file %s not found in %s@%s (HTTP %d)%s", t.file, t.repo, t.revision, status, suffix)
	case code == "GatedRepo" || status == http.StatusForbidden:
		e.Kind = ErrAccess
		tok := "set HF_TOKEN to a token of the account that accepted it"
		if c.Token != "" {
			tok = "HF_TOKEN is set, so make sure its account has accepted the license (approval can take a while) and the token has read access"
		}
		e.Msg = fmt.Sprintf("%s is gated (HTTP %d): accept the license on %s while logged in, and %s%s", nameOf(t), status, repoPage, tok, suffix)
	case status == http.StatusUnauthorized:
		e.Kind = ErrAccess
		if c.Token == "" {
			e.Msg = fmt.Sprintf("%s needs authentication (HTTP 401): the repository is gated or private; set HF_TOKEN to a Hugging Face token with read access, and accept the license on %s if it has one%s", nameOf(t), repoPage, suffix)
		} else {
			e.Msg = fmt.Sprintf("the Hub rejected HF_TOKEN for %s (HTTP 401): check that the token is valid and can read the repository, and accept the license on %s if it has one%s", nameOf(t), repoPage, suffix)
		}
	case status == http.StatusNotFound:
		e.Kind = ErrNotFound
		if t.repo != "" {
			e.Msg = fmt.Sprintf("%s not found (HTTP 404): check the repository id, revision and file name%s", t, suffix)
		} else {
			e.Msg = fmt.Sprintf("%s not found (HTTP 404)%s", t.url, suffix)
		}
	default:
		e.Kind = ErrHTTP
		e.Msg = fmt.Sprintf("fetch %s: HTTP %d %s%s", t, status, http.StatusText(status), suffix)
	}
	return e
}

func nameOf(t target) string {
	if t.repo != "" {
		return t.repo
	}
	return t.url
}

// networkError explains an unreachable Hub.
func (c *Client) networkError(t target, err error, cached bool) *Error {
	host := c.endpoint()
	if t.repo == "" {
		host = t.url
	}
	msg := fmt.Sprintf("cannot reach %s to fetch %s: %v; offline? use --offline with a cached model or a local path", host, t, err)
	if cached {
		msg += " (a cached copy exists, so --offline will work)"
	}
	return &Error{Kind: ErrNetwork, URL: t.url, Msg: msg, Err: err}
}

// clean shortens a server-supplied message and drops control characters,
// so a hostile server cannot garble the terminal.
func clean(s string) string {
	s = strings.TrimSpace(termtext.Printable(s))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
