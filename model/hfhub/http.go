package hfhub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// response is one completed HTTP exchange with its (bounded) body.
type response struct {
	status int
	header http.Header
	body   []byte
	// truncated is set when a 200 response to a range request was cut at
	// the requested length (the server ignored Range).
	truncated bool
}

// netError wraps a transport failure that persisted through the retries.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// errorBodyLimit bounds how much of an error response is read.
const errorBodyLimit = 64 << 10

// get performs a GET of t.url, retrying 429, 5xx and transient network
// failures with exponential backoff. rng is a Range header value or "".
// A 2xx body longer than limit is an ErrTooLarge error unless cut is set,
// in which case the first limit bytes are kept (a server that ignores
// Range sends the whole file; only its start is read). Any other status is
// returned as a response for the caller to interpret.
func (c *Client) get(ctx context.Context, t target, rng string, limit int64, cut bool) (*response, error) {
	retries := c.maxRetries()
	base := orDur(c.RetryBaseDelay, DefaultRetryBaseDelay)
	maxDelay := orDur(c.MaxRetryDelay, DefaultMaxRetryDelay)
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, t, rng, limit, cut)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var tooLarge *Error
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		if err == nil && !retryableStatus(resp.status) {
			return resp, nil
		}
		if err != nil && !retryableNetError(err) {
			return nil, &netError{err}
		}
		if attempt >= retries {
			if err != nil {
				return nil, &netError{err}
			}
			return resp, nil
		}
		wait := base << attempt
		if wait <= 0 || wait > maxDelay {
			wait = maxDelay
		}
		wait += rand.N(wait/4 + 1) // jitter, so parallel shard reads do not retry in lockstep
		if resp != nil {
			if ra, ok := retryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
				if ra > maxDelay {
					e := c.statusError(t, resp.status, resp.header)
					e.Msg += fmt.Sprintf("; the Hub asks to retry after %s, try again later", ra.Round(time.Second))
					return nil, e
				}
				wait = ra
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// attempt is one request with its own timeout, body read included.
func (c *Client) attempt(ctx context.Context, t target, rng string, limit int64, cut bool) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, orDur(c.RequestTimeout, DefaultRequestTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, t.url, nil)
	if err != nil {
		return nil, err
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "gpuplan"
	}
	req.Header.Set("User-Agent", ua)
	if rng != "" {
		req.Header.Set("Range", rng)
		// A compressed body would make byte ranges meaningless.
		req.Header.Set("Accept-Encoding", "identity")
	}
	if c.Token != "" && c.sameHost(t.url) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hr, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	r := &response{status: hr.StatusCode, header: hr.Header}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(hr.Body, errorBodyLimit))
		return r, nil
	}
	if hr.ContentLength > limit && !cut {
		return nil, c.tooLarge(t, hr.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		if !cut {
			return nil, c.tooLarge(t, -1, limit)
		}
		body, r.truncated = body[:limit], true
	}
	r.body = body
	return r, nil
}

func (c *Client) tooLarge(t target, got, limit int64) *Error {
	size := "more than " + strconv.FormatInt(limit, 10)
	if got > 0 {
		size = strconv.FormatInt(got, 10)
	}
	return &Error{Kind: ErrTooLarge, URL: t.url, Msg: fmt.Sprintf("%s is %s bytes, over the %d-byte limit for files read whole; is it really a configuration file?", t, size, limit)}
}

// retryableStatus: rate limiting and server errors are transient.
func retryableStatus(s int) bool {
	return s == http.StatusTooManyRequests || s >= 500
}

// retryableNetError: timeouts, resets and refused connections may pass;
// an unknown host, a bad certificate or a redirect loop will not.
func retryableNetError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return false
	}
	if strings.Contains(err.Error(), "stopped after") {
		return false
	}
	return true
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date
// (RFC 9110 section 10.2.3).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
