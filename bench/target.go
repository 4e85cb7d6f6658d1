package bench

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// API selects the OpenAI endpoint family.
type API string

// The two OpenAI text-generation endpoints every compatible server offers.
const (
	APIChat        API = "chat"        // POST …/chat/completions, prompt sent as one user message
	APICompletions API = "completions" // POST …/completions, raw prompt
)

// DefaultAzureAPIVersion is the Azure OpenAI data-plane api-version used
// when none is given: the GA inference version documented in the Azure
// OpenAI REST reference (2024-10-21), which accepts stream_options.
const DefaultAzureAPIVersion = "2024-10-21"

// Target says where and how to send requests.
type Target struct {
	// URL is the API base: "http://host:port/v1" for OpenAI-compatible
	// servers (…/chat/completions or …/completions is appended unless the
	// URL already ends in it), or the resource endpoint
	// "https://NAME.openai.azure.com" when AzureDeployment is set.
	URL string
	// Model is sent as the request's "model" field.
	Model string
	API   API
	// Stream asks for server-sent events; without it TTFT, TPOT and ITL
	// cannot be measured and only end-to-end latency is reported.
	Stream bool
	// APIKey is sent as "Authorization: Bearer KEY", or as "api-key: KEY"
	// for Azure OpenAI. Empty sends no credential.
	APIKey string
	// AzureDeployment switches to the Azure OpenAI path
	// /openai/deployments/{AzureDeployment}/… with ?api-version=.
	AzureDeployment string
	// AzureAPIVersion is the api-version query value (DefaultAzureAPIVersion
	// when empty).
	AzureAPIVersion string
}

// Azure reports whether requests use Azure OpenAI's deployment path and
// api-key header.
func (t Target) Azure() bool { return t.AzureDeployment != "" }

// Endpoint returns the full request URL.
func (t Target) Endpoint() (string, error) {
	u, err := url.Parse(strings.TrimSpace(t.URL))
	if err != nil {
		return "", fmt.Errorf("parse --url %q: %w", t.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("--url %q: the scheme must be http or https, like http://127.0.0.1:8000/v1", t.URL)
	}
	if u.Host == "" {
		return "", fmt.Errorf("--url %q has no host; use a URL like http://127.0.0.1:8000/v1", t.URL)
	}
	suffix := "/chat/completions"
	if t.API == APICompletions {
		suffix = "/completions"
	}
	path := strings.TrimRight(u.Path, "/")
	if t.Azure() {
		if strings.ContainsAny(t.AzureDeployment, "/?#") {
			return "", fmt.Errorf("azure deployment name %q must not contain '/', '?' or '#'", t.AzureDeployment)
		}
		if !strings.Contains(path, "/openai/deployments/") {
			path += "/openai/deployments/" + t.AzureDeployment // String() escapes it
		}
		v := t.AzureAPIVersion
		if v == "" {
			v = DefaultAzureAPIVersion
		}
		q := u.Query()
		q.Set("api-version", v)
		u.RawQuery = q.Encode()
	}
	if !strings.HasSuffix(path, suffix) {
		path += suffix
	}
	u.Path = path
	u.RawPath = ""
	return u.String(), nil
}

// ErrRemoteTarget is returned by CheckLoopback for a host that is not this
// machine.
var ErrRemoteTarget = errors.New("target is not on this machine")

// CheckLoopback returns ErrRemoteTarget unless rawURL's host is "localhost"
// or a loopback IP address (127.0.0.0/8, ::1). Host names other than
// localhost are not resolved: a benchmark aimed at another machine must be
// allowed explicitly (--allow-remote), because it sends real load and may
// spend money.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return fmt.Errorf("parse url %q: %w", rawURL, err)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q (pass --allow-remote to send load to another machine)", ErrRemoteTarget, host)
}
