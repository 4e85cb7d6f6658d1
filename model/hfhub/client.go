// Package hfhub is a small Hugging Face Hub client: it fetches a model
// repository's small files (config.json, model.safetensors.index.json,
// quantization configs) and reads the beginning of large files
// (safetensors and GGUF headers) with HTTP range requests, never the
// weights.
//
// Files are addressed as the Hub serves them,
// {endpoint}/{repo}/resolve/{revision}/{path}. The Hub answers large files
// with a redirect to a CDN; the client follows it but sends the token only
// to the endpoint's own host. Transient failures (HTTP 429 and 5xx, network
// errors) are retried with exponential backoff, honouring Retry-After.
// Everything fetched is cached on disk (written atomically), and an Offline
// client serves only from that cache, so a second run works without a
// network.
package hfhub

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the branch used when none is given.
const DefaultRevision = "main"

// Defaults for the zero values of Client's tuning fields.
const (
	// DefaultMaxRetries: four retries after the first attempt, with the
	// default delays 0.5 s, 1 s, 2 s, 4 s: under 8 s in all before a
	// transient failure is reported.
	DefaultMaxRetries = 4
	// DefaultRetryBaseDelay is the first retry's delay; each retry doubles it.
	DefaultRetryBaseDelay = 500 * time.Millisecond
	// DefaultMaxRetryDelay caps one wait, including a server's Retry-After:
	// a longer Retry-After is reported instead of waited for.
	DefaultMaxRetryDelay = 30 * time.Second
	// DefaultRequestTimeout bounds one attempt, body included. Header
	// reads are at most a few tens of MB.
	DefaultRequestTimeout = 2 * time.Minute
	// DefaultMaxFileBytes bounds a whole-file fetch. The largest index
	// files are about 10 MB; configs are a few KB.
	DefaultMaxFileBytes = 64 << 20
	// DefaultFirstRangeBytes is the first range request's size: it holds
	// most safetensors headers whole (same as safetensors.FirstReadBytes).
	DefaultFirstRangeBytes = 64 << 10
	// maxRedirects matches net/http's default policy.
	maxRedirects = 10
)

// Client talks to a Hugging Face Hub endpoint. The zero value works
// against the public Hub without a token or cache. A Client is safe for
// concurrent use once its fields are set.
type Client struct {
	// Endpoint is the Hub's base URL (DefaultEndpoint when empty); callers
	// honour HF_ENDPOINT by setting it.
	Endpoint string
	// Token is a Hub access token (HF_TOKEN), sent as a bearer token to the
	// endpoint's host only.
	Token string
	// CacheDir is where fetched files are kept; empty disables the cache.
	CacheDir string
	// HTTP is the client used for requests (a default with timeouts when
	// nil). Its redirect policy is wrapped, not replaced.
	HTTP *http.Client
	// Offline serves only from the cache and never touches the network.
	Offline bool

	// MaxRetries, RetryBaseDelay, MaxRetryDelay, RequestTimeout,
	// MaxFileBytes and FirstRangeBytes tune the client; zero means the
	// Default* constant. MaxRetries < 0 disables retries.
	MaxRetries      int
	RetryBaseDelay  time.Duration
	MaxRetryDelay   time.Duration
	RequestTimeout  time.Duration
	MaxFileBytes    int64
	FirstRangeBytes int64
	// UserAgent is sent with every request ("gpuplan" when empty).
	UserAgent string
	// Warn, if set, receives warnings, such as serving a cached copy
	// because the Hub could not be reached.
	Warn func(msg string)
	// OmitServerMessages keeps the Hub's X-Error-Message text and local
	// cache paths out of error messages. A server that relays errors to its
	// own clients sets it: the Hub's text is not the server's to repeat,
	// and the cache path tells a stranger about the server's file system.
	OmitServerMessages bool

	once sync.Once
	http *http.Client
}

// FromEnv builds a client from the environment the Hub's own tools use:
// HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE (1/true/yes), caching under
// cacheDir.
func FromEnv(getenv func(string) string, cacheDir string) *Client {
	c := &Client{Endpoint: getenv("HF_ENDPOINT"), Token: strings.TrimSpace(getenv("HF_TOKEN")), CacheDir: cacheDir}
	switch strings.ToLower(strings.TrimSpace(getenv("HF_HUB_OFFLINE"))) {
	case "1", "true", "yes", "on":
		c.Offline = true
	}
	return c
}

func (c *Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return DefaultMaxRetries
	}
	return c.MaxRetries
}

func orDur(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

func orInt(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// httpClient returns the caller's client (or a default) with a redirect
// policy that drops the Authorization header when a redirect leaves the
// original host: the Hub sends large files to a CDN, which must not see
// the token. net/http alone would keep it for subdomains.
func (c *Client) httpClient() *http.Client {
	c.once.Do(func() {
		base := c.HTTP
		if base == nil {
			base = &http.Client{Transport: http.DefaultTransport}
		}
		hc := *base
		inner := base.CheckRedirect
		hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				req.Header.Del("Authorization")
			}
			if inner != nil {
				return inner(req, via)
			}
			return nil
		}
		c.http = &hc
	})
	return c.http
}

// Repo ID rules of the Hub (huggingface_hub validate_repo_id): one
// "namespace/name", each part 1–96 of [A-Za-z0-9_.-] starting and ending
// with a letter, digit or underscore, without "--" or "..", not ending in
// ".git".
var repoPart = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$`)

// ValidRepoID checks a repository id of the form namespace/name.
func ValidRepoID(id string) error {
	parts := strings.Split(id, "/")
	if len(parts) != 2 {
		return fmt.Errorf("repository id %q is not of the form namespace/name (e.g. meta-llama/Llama-3.1-8B)", id)
	}
	for _, p := range parts {
		if !repoPart.MatchString(p) || strings.Contains(p, "--") || strings.Contains(p, "..") {
			return fmt.Errorf("repository id %q is invalid: each part is 1-96 letters, digits, '_', '-' or '.', without '--' or '..'", id)
		}
	}
	if strings.HasSuffix(id, ".git") {
		return fmt.Errorf("repository id %q must not end in .git", id)
	}
	return nil
}

// ParseRef splits "namespace/name[@revision]" into a repository id and a
// revision (DefaultRevision when absent), validating both.
func ParseRef(ref string) (repo, revision string, err error) {
	repo, revision, hasRev := strings.Cut(ref, "@")
	if !hasRev {
		revision = DefaultRevision
	}
	if err := ValidRepoID(repo); err != nil {
		return "", "", err
	}
	if err := validRevision(revision); err != nil {
		return "", "", err
	}
	return repo, revision, nil
}

func validRevision(rev string) error {
	if rev == "" || rev == "." || rev == ".." || strings.ContainsAny(rev, "\x00\\") || len(rev) > 255 {
		return fmt.Errorf("revision %q is invalid", rev)
	}
	for _, seg := range strings.Split(rev, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("revision %q is invalid", rev)
		}
	}
	return nil
}

// validPath checks a file path inside a repository.
func validPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("file path %q is not a clean relative path", p)
	}
	return nil
}

// FileURL is the Hub URL of a file: {endpoint}/{repo}/resolve/{revision}/{path},
// with the revision escaped as one path segment (as huggingface_hub's
// hf_hub_url does, so "refs/pr/1" becomes "refs%2Fpr%2F1").
func (c *Client) FileURL(repo, revision, file string) (string, error) {
	if err := ValidRepoID(repo); err != nil {
		return "", err
	}
	if revision == "" {
		revision = DefaultRevision
	}
	if err := validRevision(revision); err != nil {
		return "", err
	}
	if err := validPath(file); err != nil {
		return "", err
	}
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.endpoint() + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(segs, "/"), nil
}

// RepoURL is the repository's page, where gated models' licenses are
// accepted.
func (c *Client) RepoURL(repo string) string { return c.endpoint() + "/" + repo }

// sameHost reports whether u is on the endpoint's host (and scheme), the
// only place the token goes.
func (c *Client) sameHost(u string) bool {
	a, err1 := url.Parse(u)
	b, err2 := url.Parse(c.endpoint())
	return err1 == nil && err2 == nil && a.Host == b.Host && a.Scheme == b.Scheme
}

var errNoCache = errors.New("no cache directory configured")

// Clone returns a copy of the client's settings (not its internal state),
// for a variant such as an offline one.
func (c *Client) Clone() *Client {
	return &Client{
		Endpoint: c.Endpoint, Token: c.Token, CacheDir: c.CacheDir, HTTP: c.HTTP, Offline: c.Offline,
		MaxRetries: c.MaxRetries, RetryBaseDelay: c.RetryBaseDelay, MaxRetryDelay: c.MaxRetryDelay,
		RequestTimeout: c.RequestTimeout, MaxFileBytes: c.MaxFileBytes, FirstRangeBytes: c.FirstRangeBytes,
		UserAgent: c.UserAgent, OmitServerMessages: c.OmitServerMessages, Warn: c.Warn,
	}
}

func (c *Client) warnf(format string, args ...any) {
	if c.Warn != nil {
		c.Warn(fmt.Sprintf(format, args...))
	}
}

// EndpointHost is the endpoint's host (with port), for recognising Hub
// URLs.
func (c *Client) EndpointHost() string {
	u, err := url.Parse(c.endpoint())
	if err != nil {
		return ""
	}
	return u.Host
}
