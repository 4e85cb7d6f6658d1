package hfhub

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub imitates the Hub's file-serving layout on loopback:
// /{namespace}/{name}/resolve/{revision}/{path} answers small files itself
// and redirects *.safetensors and *.gguf to a second server (the "CDN"),
// as the Hub redirects LFS files. Error answers carry the Hub's
// X-Error-Code header.
type fakeHub struct {
	t     *testing.T
	hub   *httptest.Server
	cdn   *httptest.Server
	token string // the one valid token

	mu       sync.Mutex
	repos    map[string]map[string]map[string][]byte // repo → revision → path → content
	gated    map[string]bool                         // repos needing the valid token
	failures map[string][]failure                    // path → answers to give first
	noRange  bool                                    // CDN ignores Range
	log      []logEntry
}

type failure struct {
	status     int
	retryAfter string
}

type logEntry struct {
	server string // "hub" or "cdn"
	path   string
	rng    string
	auth   string
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{t: t, token: "hf_valid", repos: map[string]map[string]map[string][]byte{}, gated: map[string]bool{}, failures: map[string][]failure{}}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	t.Cleanup(func() { h.hub.Close(); h.cdn.Close() })
	return h
}

func (h *fakeHub) add(repo, rev, path string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.repos[repo] == nil {
		h.repos[repo] = map[string]map[string][]byte{}
	}
	if h.repos[repo][rev] == nil {
		h.repos[repo][rev] = map[string][]byte{}
	}
	h.repos[repo][rev][path] = data
}

func (h *fakeHub) fail(path string, fs ...failure) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures[path] = append(h.failures[path], fs...)
}

func (h *fakeHub) entries(server string) []logEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logEntry
	for _, e := range h.log {
		if e.server == server {
			out = append(out, e)
		}
	}
	return out
}

func (h *fakeHub) client(t *testing.T) *Client {
	return &Client{
		Endpoint:       h.hub.URL,
		CacheDir:       t.TempDir(),
		RetryBaseDelay: time.Millisecond,
		MaxRetryDelay:  2 * time.Second,
	}
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, logEntry{"hub", r.URL.EscapedPath(), r.Header.Get("Range"), r.Header.Get("Authorization")})
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(segs) < 5 || segs[2] != "resolve" {
		h.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	repo := segs[0] + "/" + segs[1]
	rev, _ := url.PathUnescape(segs[3])
	path, _ := url.PathUnescape(strings.Join(segs[4:], "/"))
	if fs := h.failures[path]; len(fs) > 0 {
		h.failures[path] = fs[1:]
		h.mu.Unlock()
		if fs[0].retryAfter != "" {
			w.Header().Set("Retry-After", fs[0].retryAfter)
		}
		http.Error(w, "try later", fs[0].status)
		return
	}
	revs, ok := h.repos[repo]
	gated := h.gated[repo]
	h.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case !ok && auth == "":
		// The Hub does not reveal whether a private repository exists.
		hubError(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return
	case !ok:
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	case gated && auth == "":
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+repo+" is restricted. You must be authenticated.")
		return
	case gated && auth != "Bearer "+h.token:
		hubError(w, http.StatusForbidden, "GatedRepo", "Access to model "+repo+" is restricted and you are not in the authorized list.")
		return
	}
	files, ok := revs[rev]
	if !ok {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	data, ok := files[path]
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", path+" does not exist on \""+rev+"\"")
		return
	}
	if strings.HasSuffix(path, ".safetensors") || strings.HasSuffix(path, ".gguf") {
		http.Redirect(w, r, h.cdn.URL+"/blob/"+url.PathEscape(repo+"@"+rev+"@"+path), http.StatusFound)
		return
	}
	http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(data))
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, logEntry{"cdn", r.URL.Path, r.Header.Get("Range"), r.Header.Get("Authorization")})
	noRange := h.noRange
	h.mu.Unlock()
	if a := r.Header.Get("Authorization"); a != "" {
		h.t.Errorf("CDN received Authorization %q: the token leaked through a redirect", a)
	}
	key, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/blob/"))
	parts := strings.SplitN(key, "@", 3)
	if len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	data, ok := h.repos[parts[0]][parts[1]][parts[2]]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if noRange {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
		return
	}
	http.ServeContent(w, r, parts[2], time.Time{}, bytes.NewReader(data))
}
