package hfhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
)

// maxHeadBytes bounds the bytes a File keeps from the start of a file
// (and caches). Header readers stop far earlier: safetensors at 100 MB,
// GGUF at 256 MiB by default.
const maxHeadBytes = 512 << 20

// File is a remote file read with HTTP range requests: an io.ReaderAt whose
// size is known from the first response. The bytes read from the start of
// the file (the header region) are kept, so re-reads cost nothing, and
// Close saves them to the cache for offline runs. Reads far from the start
// are fetched on their own and not kept. A File reads with the context it
// was opened with, and is safe for concurrent use.
type File struct {
	c       *Client
	ctx     context.Context
	t       target
	cache   string // head cache path, "" without a cache
	offline bool

	mu   sync.Mutex
	size int64 // -1 until known
	head []byte
}

// headMeta is the sidecar of a cached head.
type headMeta struct {
	URL       string `json:"url"`
	Size      int64  `json:"size"`
	HeadBytes int    `json:"head_bytes"`
}

// Open opens a repository file for ranged reads. Online, it fetches the
// first FirstRangeBytes at once (which also reports a missing or gated
// file here rather than at the first read); offline, it serves the head
// saved by an earlier run.
func (c *Client) Open(ctx context.Context, repo, revision, file string) (*File, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	u, err := c.FileURL(repo, revision, file)
	if err != nil {
		return nil, err
	}
	return c.open(ctx, target{repo: repo, revision: revision, file: file, url: u})
}

// OpenURL opens any http(s) URL for ranged reads. The token is sent only
// if the URL is on the endpoint's host.
func (c *Client) OpenURL(ctx context.Context, rawURL string) (*File, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", rawURL)
	}
	return c.open(ctx, target{url: rawURL})
}

func (c *Client) open(ctx context.Context, t target) (*File, error) {
	f := &File{c: c, ctx: ctx, t: t, size: -1, offline: c.Offline}
	if p, err := c.cachePath(t); err == nil {
		f.cache = p + ".head"
	}
	if c.Offline {
		if err := f.loadCache(); err != nil {
			return nil, err
		}
		return f, nil
	}
	first := orInt(c.FirstRangeBytes, DefaultFirstRangeBytes)
	if _, err := f.extend(first); err != nil {
		return nil, err
	}
	return f, nil
}

// Name is the file's repository path or URL.
func (f *File) Name() string { return f.t.String() }

// Size is the file size in bytes, or -1 if the server never said.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// ReadAt reads len(p) bytes at off (fewer, with io.EOF, at the end of the
// file).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset", f.t)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	end := off + int64(len(p))
	if f.size >= 0 {
		if off >= f.size {
			return 0, io.EOF
		}
		end = min(end, f.size)
	}
	if end > int64(len(f.head)) {
		switch {
		case f.offline:
			n := 0
			if off < int64(len(f.head)) {
				n = copy(p, f.head[off:])
			}
			return n, &Error{Kind: ErrNotCached, URL: f.t.url, Msg: fmt.Sprintf("offline: only the first %d bytes of %s are cached and byte %d is needed; run once without --offline", len(f.head), f.t, end)}
		case off <= int64(len(f.head)) && end <= maxHeadBytes:
			if _, err := f.extend(end); err != nil {
				return 0, err
			}
		default:
			return f.readFar(p, off)
		}
	}
	if off >= int64(len(f.head)) {
		return 0, io.EOF
	}
	n := copy(p, f.head[off:min(end, int64(len(f.head)))])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// extend grows the head to end bytes (or the end of the file), reporting
// whether it reached the end of the file.
func (f *File) extend(end int64) (eof bool, err error) {
	for int64(len(f.head)) < end {
		start := int64(len(f.head))
		b, err := f.fetchRange(start, end)
		if err != nil {
			return false, err
		}
		if len(b) == 0 {
			return true, nil
		}
		f.head = append(f.head, b...)
		if f.size >= 0 && int64(len(f.head)) >= f.size {
			return true, nil
		}
	}
	return false, nil
}

// readFar serves a read that does not touch the head.
func (f *File) readFar(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		b, err := f.fetchRange(off+int64(n), off+int64(len(p)))
		if err != nil {
			return n, err
		}
		if len(b) == 0 {
			return n, io.EOF
		}
		n += copy(p[n:], b)
	}
	return n, nil
}

// fetchRange fetches bytes [start, end), or fewer at the end of the file,
// and learns the file size from the response.
func (f *File) fetchRange(start, end int64) ([]byte, error) {
	rng := fmt.Sprintf("bytes=%d-%d", start, end-1)
	resp, err := f.c.get(f.ctx, f.t, rng, end, true)
	if err != nil {
		var ne *netError
		if errors.As(err, &ne) {
			return nil, f.c.networkError(f.t, ne.err, f.cache != "" && exists(f.cache))
		}
		return nil, err
	}
	switch resp.status {
	case http.StatusPartialContent:
		a, b, total, ok := parseContentRange(resp.header.Get("Content-Range"))
		if !ok || a != start || b < a || b >= end || int64(len(resp.body)) != b-a+1 {
			return nil, fmt.Errorf("read %s: the server answered range %s with Content-Range %q and %d bytes", f.t, rng, resp.header.Get("Content-Range"), len(resp.body))
		}
		if err := f.learnSize(total); err != nil {
			return nil, err
		}
		return resp.body, nil
	case http.StatusOK:
		// The server ignored Range and sent the file from byte 0; only
		// its first end bytes were read.
		if resp.truncated {
			if cl := resp.header.Get("Content-Length"); cl != "" {
				if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
					if err := f.learnSize(n); err != nil {
						return nil, err
					}
				}
			}
		} else if err := f.learnSize(int64(len(resp.body))); err != nil {
			return nil, err
		}
		if int64(len(resp.body)) <= start {
			return nil, nil
		}
		return resp.body[start:min(end, int64(len(resp.body)))], nil
	case http.StatusRequestedRangeNotSatisfiable:
		// The range starts at or past the end: Content-Range "bytes */N".
		if _, _, total, ok := parseContentRange(resp.header.Get("Content-Range")); ok && total >= 0 {
			if err := f.learnSize(total); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	e := f.c.statusError(f.t, resp.status, resp.header)
	if f.cache != "" && e.Kind == ErrNotFound && e.Code == "EntryNotFound" {
		_ = writeAtomic(strings.TrimSuffix(f.cache, ".head")+missingSuffix, nil)
	}
	return nil, e
}

func (f *File) learnSize(total int64) error {
	if total < 0 {
		return nil
	}
	if f.size >= 0 && f.size != total {
		return fmt.Errorf("read %s: the file changed size on the server (%d, now %d bytes) while being read; try again", f.t, f.size, total)
	}
	f.size = total
	return nil
}

// parseContentRange reads "bytes a-b/total" or "bytes */total"; total is
// -1 when the server sends "*".
func parseContentRange(v string) (a, b, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	total = -1
	if tot != "*" {
		n, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		total = n
	}
	if rng == "*" {
		return -1, -1, total, true
	}
	as, bs, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	a, err1 := strconv.ParseInt(as, 10, 64)
	b, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a || (total >= 0 && b >= total) {
		return 0, 0, 0, false
	}
	return a, b, total, true
}

// loadCache restores the head saved by an earlier online run.
func (f *File) loadCache() error {
	if f.cache == "" {
		return f.c.notCached(f.t, "")
	}
	missing := strings.TrimSuffix(f.cache, ".head") + missingSuffix
	metaBytes, err := readCached(f.cache+".json", 1<<20)
	if err != nil {
		if exists(missing) {
			return &Error{Kind: ErrNotFound, URL: f.t.url, Msg: fmt.Sprintf("%s does not exist (cached answer from the last online run)", f.t)}
		}
		return f.c.notCached(f.t, f.cache)
	}
	var m headMeta
	if err := json.Unmarshal(metaBytes, &m); err != nil || m.HeadBytes < 0 || m.HeadBytes > maxHeadBytes {
		return f.c.notCached(f.t, f.cache)
	}
	head, err := readCached(f.cache, int64(m.HeadBytes))
	if err != nil || len(head) != m.HeadBytes {
		return f.c.notCached(f.t, f.cache)
	}
	f.head, f.size = head, m.Size
	return nil
}

// Close saves the bytes read from the start of the file to the cache, for
// offline runs, unless the cache already holds as many.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offline || f.cache == "" || len(f.head) == 0 {
		return nil
	}
	var old headMeta
	if b, err := readCached(f.cache+".json", 1<<20); err == nil && json.Unmarshal(b, &old) == nil {
		// Skip the write only if the head on disk really holds what its
		// sidecar says: a .head cut short (disk full, a crash before
		// atomic writes, a user's truncate) is repaired by this online run.
		if st, err := os.Stat(f.cache); err == nil && st.Size() == int64(old.HeadBytes) &&
			old.Size == f.size && old.HeadBytes >= len(f.head) {
			return nil
		}
	}
	if err := writeAtomic(f.cache, f.head); err != nil {
		return fmt.Errorf("cache %s: %w", f.t, err)
	}
	meta, _ := json.Marshal(headMeta{URL: f.t.url, Size: f.size, HeadBytes: len(f.head)})
	if err := writeAtomic(f.cache+".json", meta); err != nil {
		return fmt.Errorf("cache %s: %w", f.t, err)
	}
	os.Remove(strings.TrimSuffix(f.cache, ".head") + missingSuffix)
	return nil
}
