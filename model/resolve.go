package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/boundedfile"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/model/hfhub"
	"github.com/gpuplan/gpuplan/model/safetensors"
	"github.com/gpuplan/gpuplan/units"
)

// ResolveOptions say where Resolve may look.
type ResolveOptions struct {
	// Catalog is consulted first; nil skips it.
	Catalog *Catalog
	// Hub fetches from Hugging Face (a default client without token or
	// cache when nil).
	Hub *hfhub.Client
	// Offline forbids network access: the Hub client serves only its cache.
	Offline bool
	// ReadHeaders reads the safetensors headers of Hugging Face ids that
	// are not in the catalog, with range requests, to fill Spec.Inventory.
	// Local checkpoints' headers are always read, since that costs no
	// network.
	ReadHeaders bool
	// ReadCatalogHeaders does the same for catalog models. It is separate
	// so that catalog lookups stay offline unless asked: the catalog's
	// configs already give exact parameter counts.
	ReadCatalogHeaders bool
	// CatalogAndHubOnly resolves catalog ids and Hugging Face ids
	// (org/name[@revision]) only: never a local file or directory, never a
	// URL. A server resolving references sent by strangers sets it, so that
	// no spelling of a path reads the server's own files (docs/security.md).
	CatalogAndHubOnly bool
	// MaxHeaderBytes bounds the safetensors header bytes this resolution
	// reads across all shards (beyond each file's first range request);
	// 0 means safetensors.DefaultMaxTotalHeaderBytes. A server sets it per
	// request so that one hostile repository cannot hold gigabytes.
	MaxHeaderBytes int64
}

// NormalizeRef is the one normalisation of a MODEL reference: surrounding
// white space (any Unicode space) is dropped. Callers that check a
// reference before resolving it must check NormalizeRef(ref), the value
// Resolve uses, or a leading space slips past their check.
func NormalizeRef(ref string) string { return strings.TrimSpace(ref) }

func (o ResolveOptions) hub() *hfhub.Client {
	h := o.Hub
	if h == nil {
		h = &hfhub.Client{}
	}
	if o.Offline && !h.Offline {
		h = h.Clone()
		h.Offline = true
	}
	return h
}

// Resolve turns a user's MODEL argument into a Spec, trying in order:
//
//  1. a catalog id or alias;
//  2. a local path: a config.json file, a directory holding config.json
//     (its safetensors headers, via model.safetensors.index.json or the
//     *.safetensors files, fill Spec.Inventory), or a .gguf file (or a
//     directory holding one);
//  3. an http(s) URL of a .gguf file (read with range requests);
//  4. a Hugging Face id, org/name[@revision] (or its huggingface.co URL):
//     config.json from the Hub, then, with ReadHeaders, the safetensors
//     headers.
//
// A Spec built from GGUF metadata alone says so in Spec.Source, including
// what in it is approximate; its weights (Spec.Inventory) are exact.
func Resolve(ctx context.Context, ref string, opts ResolveOptions) (*Spec, error) {
	ref = NormalizeRef(ref)
	if opts.MaxHeaderBytes > 0 {
		ctx = safetensors.WithBudget(ctx, safetensors.NewBudget(opts.MaxHeaderBytes))
	}
	if ref == "" {
		return nil, errors.New("no model given: pass a catalog id, a Hugging Face id (org/name), a local config.json, model directory or .gguf file, or a .gguf URL")
	}
	hub := opts.hub()
	var catalogErr error
	if opts.Catalog != nil {
		spec, _, err := opts.Catalog.Lookup(ref)
		switch {
		case err == nil:
			if opts.ReadCatalogHeaders && hfhub.ValidRepoID(spec.ID) == nil {
				inv, err := hubInventory(ctx, hub, spec.ID, spec.Revision)
				if err != nil {
					return nil, fmt.Errorf("model %s is in the catalog, but reading its safetensors headers failed: %w", spec.ID, err)
				}
				spec.Inventory = inv
			}
			return spec, nil
		case !errors.Is(err, ErrNotInCatalog):
			return nil, err
		}
		catalogErr = err
	}
	if opts.CatalogAndHubOnly {
		return resolveHubOnly(ctx, hub, ref, catalogErr, opts)
	}
	if u, ok := parseHTTPURL(ref); ok {
		return resolveURL(ctx, hub, u, opts)
	}
	local := expandHome(ref)
	if st, err := os.Stat(local); err == nil {
		return resolveLocal(ctx, local, st)
	} else if looksLikePath(ref) {
		return nil, fmt.Errorf("model %q: %w (a local path must exist; Hugging Face ids look like org/name)", ref, err)
	}
	if repo, rev, err := hfhub.ParseRef(ref); err == nil {
		return resolveHub(ctx, hub, repo, rev, opts)
	} else if strings.Count(ref, "/") == 1 {
		return nil, fmt.Errorf("model %q: %w", ref, err)
	}
	if catalogErr != nil {
		return nil, catalogErr
	}
	return nil, fmt.Errorf("model %q is not a local path and not a Hugging Face id (org/name); pass a catalog id, org/name[@revision], a local config.json, model directory or .gguf file, or a .gguf URL", ref)
}

// errCatalogAndHubOnly explains what a CatalogAndHubOnly resolver accepts.
var errCatalogAndHubOnly = errors.New("give a catalog id or alias or a Hugging Face id org/name[@revision]; local paths and URLs are not accepted here")

// hubOnlyNotFound is a catalog miss under CatalogAndHubOnly: the catalog's
// summary and suggestions, and what this resolver accepts instead (not the
// local-path hint). errors.Is finds ErrNotInCatalog.
type hubOnlyNotFound struct{ nf *NotFoundError }

func (e hubOnlyNotFound) Error() string {
	return e.nf.Summary() + " Give a catalog id or alias or a Hugging Face id org/name[@revision]; local paths and URLs are not accepted here."
}
func (e hubOnlyNotFound) Unwrap() error { return e.nf }

// resolveHubOnly is Resolve under CatalogAndHubOnly, after a catalog miss:
// only a well-formed Hugging Face id goes on, to the Hub; nothing touches
// the file system. Messages quote the reference, never a path it would
// expand to.
func resolveHubOnly(ctx context.Context, hub *hfhub.Client, ref string, catalogErr error, opts ResolveOptions) (*Spec, error) {
	if !strings.Contains(ref, "/") {
		var nf *NotFoundError
		if errors.As(catalogErr, &nf) {
			return nil, hubOnlyNotFound{nf}
		}
		return nil, fmt.Errorf("model %q: %w", ref, errCatalogAndHubOnly)
	}
	if _, ok := parseHTTPURL(ref); ok || strings.Contains(ref, "://") || looksLikePath(ref) {
		return nil, fmt.Errorf("model %q: %w", ref, errCatalogAndHubOnly)
	}
	repo, rev, err := hfhub.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", ref, err)
	}
	return resolveHub(ctx, hub, repo, rev, opts)
}

// looksLikePath reports whether ref was meant as a file path, so that a
// missing file is reported as such rather than tried on the Hub.
func looksLikePath(ref string) bool {
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "~") || strings.HasPrefix(ref, ".\\") || filepath.IsAbs(ref) {
		return true
	}
	switch strings.ToLower(filepath.Ext(ref)) {
	case ".json", ".gguf", ".safetensors":
		return true
	}
	return false
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

func parseHTTPURL(ref string) (*url.URL, bool) {
	low := strings.ToLower(ref)
	if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") {
		return nil, false
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return nil, false
	}
	return u, true
}

// hubHost reports whether host serves Hugging Face repositories.
func hubHost(hub *hfhub.Client, host string) bool {
	h := strings.ToLower(host)
	return h == "huggingface.co" || h == "www.huggingface.co" || h == "hf.co" || h == strings.ToLower(hub.EndpointHost())
}

// resolveURL handles http(s) references: Hub pages and file URLs, and
// .gguf files anywhere.
func resolveURL(ctx context.Context, hub *hfhub.Client, u *url.URL, opts ResolveOptions) (*Spec, error) {
	isGGUF := strings.HasSuffix(strings.ToLower(u.Path), ".gguf")
	if hubHost(hub, u.Host) {
		segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
		for i, s := range segs {
			if v, err := url.PathUnescape(s); err == nil {
				segs[i] = v
			}
		}
		if len(segs) >= 2 {
			repo := segs[0] + "/" + segs[1]
			switch {
			case len(segs) == 2:
				if _, _, err := hfhub.ParseRef(repo); err == nil {
					return resolveHub(ctx, hub, repo, hfhub.DefaultRevision, opts)
				}
			case len(segs) == 4 && segs[2] == "tree":
				if _, _, err := hfhub.ParseRef(repo + "@" + segs[3]); err == nil {
					return resolveHub(ctx, hub, repo, segs[3], opts)
				}
			case len(segs) >= 5 && (segs[2] == "resolve" || segs[2] == "blob") && isGGUF:
				rev, file := segs[3], strings.Join(segs[4:], "/")
				open := func(ctx context.Context, name string) (io.ReaderAt, int64, error) {
					f, err := hub.Open(ctx, repo, rev, name)
					if err != nil {
						return nil, 0, err
					}
					return f, f.Size(), nil
				}
				src := hub.RepoURL(repo) + "/resolve/" + rev + "/" + file
				spec, err := resolveGGUF(ctx, open, file, src, repo)
				if err != nil {
					return nil, err
				}
				spec.Revision = rev
				return spec, nil
			}
		}
	}
	if !isGGUF {
		return nil, fmt.Errorf("model URL %s is neither a .gguf file nor a Hugging Face model page (https://huggingface.co/org/name)", u.Redacted())
	}
	open := func(ctx context.Context, name string) (io.ReaderAt, int64, error) {
		f, err := hub.OpenURL(ctx, name)
		if err != nil {
			return nil, 0, err
		}
		return f, f.Size(), nil
	}
	clean := *u
	clean.RawQuery, clean.Fragment = "", ""
	return resolveGGUF(ctx, open, u.String(), clean.Redacted(), "")
}

// resolveHub reads a Hugging Face repository's config.json and, when
// asked, its safetensors headers.
func resolveHub(ctx context.Context, hub *hfhub.Client, repo, rev string, opts ResolveOptions) (*Spec, error) {
	cfg, err := hub.Fetch(ctx, repo, rev, "config.json")
	if err != nil {
		var he *hfhub.Error
		if errors.As(err, &he) && he.Code == "EntryNotFound" {
			return nil, fmt.Errorf("%w; a GGUF-only repository has no config.json: pass the URL of its .gguf file (%s/resolve/%s/<file>.gguf)", err, hub.RepoURL(repo), rev)
		}
		return nil, err
	}
	spec, err := ParseConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("config.json of %s@%s: %w", repo, rev, err)
	}
	spec.ID, spec.Revision = repo, rev
	spec.Source = hub.RepoURL(repo) + "/resolve/" + url.PathEscape(rev) + "/config.json"
	if opts.ReadHeaders {
		inv, err := hubInventory(ctx, hub, repo, rev)
		if err != nil {
			return nil, err
		}
		spec.Inventory = inv
	}
	return spec, nil
}

// hubInventory reads the safetensors headers of a Hub repository: the
// shards its index names, or model.safetensors.
func hubInventory(ctx context.Context, hub *hfhub.Client, repo, rev string) (*TensorInventory, error) {
	if rev == "" {
		rev = hfhub.DefaultRevision
	}
	open := func(ctx context.Context, name string) (io.ReaderAt, int64, error) {
		f, err := hub.Open(ctx, repo, rev, name)
		if err != nil {
			return nil, 0, err
		}
		return f, f.Size(), nil
	}
	source := hub.RepoURL(repo) + "@" + rev
	data, err := hub.Fetch(ctx, repo, rev, safetensors.IndexFile)
	switch {
	case err == nil:
		ix, err := safetensors.ParseIndex(data)
		if err != nil {
			return nil, fmt.Errorf("%s of %s@%s: %w", safetensors.IndexFile, repo, rev, err)
		}
		ck, err := safetensors.ReadShards(ctx, ix, open)
		if err != nil {
			return nil, fmt.Errorf("safetensors headers of %s@%s: %w", repo, rev, err)
		}
		return safetensorsInventory(source, ck), nil
	case errors.Is(err, hfhub.ErrNotFound):
		r, size, err := open(ctx, "model.safetensors")
		if err != nil {
			if errors.Is(err, hfhub.ErrNotFound) {
				return nil, fmt.Errorf("%s@%s has neither %s nor model.safetensors, so its weights cannot be read from safetensors headers; size it from config.json instead (without reading headers)", repo, rev, safetensors.IndexFile)
			}
			return nil, err
		}
		if c, ok := r.(io.Closer); ok {
			defer c.Close()
		}
		h, err := safetensors.ReadHeaderContext(ctx, r, size)
		if err != nil {
			return nil, fmt.Errorf("read safetensors header of model.safetensors in %s@%s: %w", repo, rev, err)
		}
		return safetensorsInventory(source, &safetensors.Checkpoint{Shards: []safetensors.ShardHeader{{File: "model.safetensors", Header: h}}, IndexTotalSize: -1}), nil
	default:
		return nil, err
	}
}

// resolveLocal handles an existing path.
func resolveLocal(ctx context.Context, p string, st os.FileInfo) (*Spec, error) {
	if st.IsDir() {
		return resolveDir(ctx, p)
	}
	switch strings.ToLower(filepath.Ext(p)) {
	case ".gguf":
		return resolveLocalGGUF(ctx, p)
	case ".safetensors":
		// A checkpoint file alone has no architecture: use its directory.
		return resolveDir(ctx, filepath.Dir(p))
	}
	data, err := readLimited(p, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	if len(data) >= 4 && string(data[:4]) == "GGUF" {
		return resolveLocalGGUF(ctx, p)
	}
	spec, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	spec.ID = localID(filepath.Dir(p))
	spec.Source = p
	return spec, nil
}

// resolveDir reads a model directory: config.json plus safetensors
// headers, or a GGUF file when there is no config.json.
func resolveDir(ctx context.Context, dir string) (*Spec, error) {
	cfgPath := filepath.Join(dir, "config.json")
	data, err := readLimited(cfgPath, maxConfigBytes)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		ggufs, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
		first := ggufFirstParts(ggufs)
		switch len(first) {
		case 0:
			return nil, fmt.Errorf("directory %s has no config.json and no .gguf file; pass a model directory as saved by transformers or huggingface-cli download", dir)
		case 1:
			return resolveLocalGGUF(ctx, first[0])
		default:
			return nil, fmt.Errorf("directory %s has no config.json and several GGUF models (%s); pass one .gguf file", dir, strings.Join(baseNames(first), ", "))
		}
	}
	spec, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	spec.ID = localID(dir)
	spec.Source = dir
	ck, err := safetensors.ReadDir(ctx, dir)
	switch {
	case err == nil:
		spec.Inventory = safetensorsInventory(dir, ck)
	case errors.Is(err, safetensors.ErrNoCheckpoint):
		// Only a config: sizes come from it.
	default:
		return nil, err
	}
	return spec, nil
}

// ggufFirstParts keeps single-file models and the first part of split
// ones.
func ggufFirstParts(paths []string) []string {
	var out []string
	for _, p := range paths {
		if names, ok := gguf.SplitNames(p); ok && names[0] != p {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func baseNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = filepath.Base(p)
	}
	return out
}

func localID(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(dir)
}

// readLimited reads at most limit+1 bytes of p, so that ParseConfig
// reports an oversized file with its own message.
func readLimited(p string, limit int64) ([]byte, error) {
	b, err := boundedfile.ReadFile(p, limit)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s is more than the %d bytes a model config can plausibly be; check that the file is a config.json", p, limit)
	}
	return b, err
}

func resolveLocalGGUF(ctx context.Context, p string) (*Spec, error) {
	open := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
	return resolveGGUF(ctx, open, p, p, "")
}

// resolveGGUF reads a GGUF model (all its split parts) and builds a Spec
// from its metadata and tensor table.
func resolveGGUF(ctx context.Context, open gguf.Opener, name, source, id string) (*Spec, error) {
	f, err := gguf.Open(ctx, open, name, nil)
	if err != nil {
		return nil, err
	}
	spec, err := SpecFromGGUF(f, source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if id != "" {
		spec.ID = id
	}
	return spec, nil
}

// safetensorsInventory converts the headers of a checkpoint.
func safetensorsInventory(source string, ck *safetensors.Checkpoint) *TensorInventory {
	inv := &TensorInventory{Format: "safetensors", Source: source, ByDType: map[string]DTypeTotal{}}
	for _, t := range ck.Tensors() {
		inv.Tensors = append(inv.Tensors, TensorInfo{Name: t.Name, DType: t.DType, Shape: slices.Clone(t.Shape), Bytes: units.Bytes(t.Bytes())})
	}
	all, by := ck.Totals()
	inv.Params, inv.Bytes = all.Elements, units.Bytes(all.Bytes)
	for k, v := range by {
		inv.ByDType[k] = DTypeTotal{Elements: v.Elements, Bytes: units.Bytes(v.Bytes)}
	}
	return inv
}
