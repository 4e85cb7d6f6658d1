package hfhub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// missingSuffix marks a cached "this file does not exist" answer, so that
// an offline run knows that, for instance, a repository has no
// model.safetensors.index.json.
const missingSuffix = ".missing"

// Fetch returns a small file of a repository (config.json, an index, a
// quantization config), from the network when online (refreshing the
// cache) or from the cache when Offline. revision "" means
// DefaultRevision. Files over MaxFileBytes are refused.
func (c *Client) Fetch(ctx context.Context, repo, revision, file string) ([]byte, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	u, err := c.FileURL(repo, revision, file)
	if err != nil {
		return nil, err
	}
	t := target{repo: repo, revision: revision, file: file, url: u}
	limit := orInt(c.MaxFileBytes, DefaultMaxFileBytes)
	p, perr := c.cachePath(t)
	if c.Offline {
		if perr != nil {
			return nil, c.notCached(t, "")
		}
		if data, err := readCached(p, limit); err == nil {
			return data, nil
		}
		if exists(p + missingSuffix) {
			return nil, &Error{Kind: ErrNotFound, URL: u, Msg: fmt.Sprintf("%s does not exist (cached answer from the last online run)", t)}
		}
		return nil, c.notCached(t, p)
	}
	resp, err := c.get(ctx, t, "", limit, false)
	if err != nil {
		var ne *netError
		if errors.As(err, &ne) {
			// The Hub cannot be reached: a cached copy serves, with a
			// warning, as huggingface_hub falls back to its cache.
			if perr == nil {
				if data, rerr := readCached(p, limit); rerr == nil {
					c.warnf("cannot reach %s (%v); using the cached copy of %s, which may be out of date (--offline skips the attempt)", c.endpoint(), ne.err, t)
					return data, nil
				}
			}
			return nil, c.networkError(t, ne.err, perr == nil && exists(p))
		}
		return nil, err
	}
	if resp.status != http.StatusOK {
		e := c.statusError(t, resp.status, resp.header)
		if perr == nil && e.Kind == ErrNotFound && e.Code == "EntryNotFound" {
			_ = writeAtomic(p+missingSuffix, nil)
		}
		return nil, e
	}
	if perr == nil {
		// A cache that cannot be written costs only the offline fallback;
		// the fetch itself succeeded.
		if writeAtomic(p, resp.body) == nil {
			os.Remove(p + missingSuffix)
		}
	}
	return resp.body, nil
}
