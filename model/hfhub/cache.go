package hfhub

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gpuplan/gpuplan/atomicfile"
)

// Cache layout, under CacheDir:
//
//	<endpoint host>/<namespace>/<name>/<revision, path-escaped>/<file>
//	urls/<sha256 of the URL, 32 hex digits>/<last path element>
//
// A file read whole is stored as itself. A file read by ranges stores the
// bytes read from its start as <file>.head, with <file>.head.json giving
// the file size and its ETag.

// cachePath is where t's whole-file copy lives.
func (c *Client) cachePath(t target) (string, error) {
	if c.CacheDir == "" {
		return "", errNoCache
	}
	if t.repo == "" {
		sum := sha256.Sum256([]byte(t.url))
		base := "file"
		if u, err := url.Parse(t.url); err == nil {
			if b := path.Base(u.Path); b != "." && b != "/" && b != ".." && !strings.ContainsAny(b, "\\\x00") {
				base = b
			}
		}
		return filepath.Join(c.CacheDir, "urls", hex.EncodeToString(sum[:16]), base), nil
	}
	u, err := url.Parse(c.endpoint())
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not a URL", c.endpoint())
	}
	host := strings.NewReplacer(":", "_", "/", "_", "\\", "_").Replace(u.Host)
	ns, name, _ := strings.Cut(t.repo, "/")
	return filepath.Join(c.CacheDir, host, ns, name, url.PathEscape(t.revision), filepath.FromSlash(t.file)), nil
}

// writeAtomic writes data to p, creating the cache directory, so that
// readers never see a partial file.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(p, data, 0o644)
}

// readCached reads a cached whole file, bounded by limit.
func readCached(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("cached file %s is over the %d-byte limit", p, limit)
	}
	return data, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (c *Client) notCached(t target, p string) *Error {
	where := "no cache directory is configured"
	if p != "" {
		where = "looked in " + p
		if c.OmitServerMessages {
			where = "looked in the server's cache"
		}
	}
	return &Error{Kind: ErrNotCached, URL: t.url, Msg: fmt.Sprintf("offline: %s is not in the cache (%s); run once without --offline to fetch it, or pass a local path", t, where)}
}
