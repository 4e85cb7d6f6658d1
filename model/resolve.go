package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/internal/termtext"
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

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1)) // ParseConfig reports an oversized file
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

// ggufModelTypes maps llama.cpp architecture names (LLM_ARCH_NAMES in
// src/llama-arch.cpp) to the Hugging Face model_type of the same
// architecture, where the two correspond.
var ggufModelTypes = map[string]string{
	"llama":     "llama",
	"llama4":    "llama4_text",
	"qwen2":     "qwen2",
	"qwen2moe":  "qwen2_moe",
	"qwen3":     "qwen3",
	"qwen3moe":  "qwen3_moe",
	"gemma":     "gemma",
	"gemma2":    "gemma2",
	"gemma3":    "gemma3_text",
	"phi2":      "phi",
	"phi3":      "phi3",
	"falcon":    "falcon",
	"gpt-oss":   "gpt_oss",
	"granite":   "granite",
	"deepseek2": "deepseek_v2",
}

// ggufSWAPattern is llama.cpp's per-architecture sliding-window layer
// pattern (hparams.set_swa_pattern in src/llama-model.cpp): with pattern n,
// layer i slides when i % n < n-1 (llama_hparams::set_swa_pattern).
var ggufSWAPattern = map[string]int{"gemma2": 2, "gpt-oss": 2, "gemma3": 6, "cohere2": 4}

// Llama 4's chunked attention: llama.cpp sets n_swa = 8192 with
// set_swa_pattern(4) and LLAMA_SWA_TYPE_CHUNKED for LLM_ARCH_LLAMA4; the
// GGUF carries no key for it. 8192 is attention_chunk_size in the Llama 4
// config.json files too.
const (
	llama4Chunk   = 8192
	llama4Pattern = 4
)

// checkGGUFCounts bounds the metadata counts SpecFromGGUF loops over or
// sizes slices by, with the same limits Spec.Validate applies to configs.
func checkGGUFCounts(h *gguf.Hyperparameters) error {
	a := h.Architecture
	for _, c := range []struct {
		key   string
		v     uint64
		limit uint64
	}{
		{a + ".block_count", h.BlockCount, maxLayers},
		{a + ".leading_dense_block_count", h.LeadingDenseBlockCount, maxLayers},
		{a + ".embedding_length", h.EmbeddingLength, maxHidden},
		{a + ".attention.head_count", h.HeadCount, maxHeads},
		{a + ".attention.head_count_kv", h.HeadCountKV, maxHeads},
		{a + ".attention.key_length", h.KeyLength, maxHeadDim},
		{a + ".attention.value_length", h.ValueLength, maxHeadDim},
		{a + ".vocab_size", h.VocabSize, maxVocab},
		{a + ".expert_count", h.ExpertCount, maxExperts},
		{a + ".expert_used_count", h.ExpertUsedCount, maxExperts},
		{a + ".feed_forward_length", h.FeedForwardLength, maxWidth},
		{a + ".expert_feed_forward_length", h.ExpertFeedForwardLength, maxWidth},
	} {
		if c.v > c.limit {
			return fmt.Errorf("%w: %s is %d, beyond any released model (at most %d); the file is corrupt or hostile", gguf.ErrFormat, c.key, c.v, c.limit)
		}
	}
	return nil
}

// SpecFromGGUF builds a Spec from a GGUF file's llama.cpp metadata and
// tensor table. Shapes come from the metadata; structure (biases, norms,
// gated MLPs, which layers are MoE, expert and shared-expert widths) from
// the tensor names and shapes; Spec.Inventory is the exact tensor table.
// What could only be assumed is listed in Spec.Source.
func SpecFromGGUF(f *gguf.File, source string) (*Spec, error) {
	h, err := f.Hyperparameters()
	if err != nil {
		return nil, err
	}
	if missing := h.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("GGUF metadata lacks %s, so the architecture is unknown; pass the model's config.json (or its Hugging Face id) instead", strings.Join(missing, ", "))
	}
	// Counts first: the loops below go per layer and the slices are sized
	// by them, so a hostile block_count of 2^31 must stop here, not after
	// billions of iterations and a 32 GiB allocation.
	if err := checkGGUFCounts(h); err != nil {
		return nil, err
	}
	tensors := make(map[string]gguf.Tensor, len(f.Tensors))
	for _, t := range f.Tensors {
		tensors[t.Name] = t
	}
	has := func(name string) bool { _, ok := tensors[name]; return ok }
	blk := func(i int, name string) string { return fmt.Sprintf("blk.%d.%s", i, name) }
	var approx []string

	s := &Spec{
		ID:                    strings.TrimSpace(termtext.Printable(h.Name)), // general.name may be any text
		ModelType:             h.Architecture,
		Layers:                int(min(h.BlockCount, 1<<31)),
		Hidden:                int(min(h.EmbeddingLength, 1<<31)),
		Heads:                 int(min(h.HeadCount, 1<<31)),
		KVHeads:               int(min(h.HeadCountKV, 1<<31)),
		Vocab:                 int(min(h.VocabSize, 1<<31)),
		Intermediate:          int(min(h.FeedForwardLength, 1<<31)),
		MaxPositionEmbeddings: int(min(h.ContextLength, 1<<40)),
		TiedEmbeddings:        h.TiedEmbeddings,
		MLPGated:              true,
		Norm:                  NormRMS,
	}
	if mt, ok := ggufModelTypes[h.Architecture]; ok {
		s.ModelType = mt
		if h.Architecture == "deepseek2" && h.ExpertCount > 0 && isSigmoidGating(f) {
			s.ModelType = "deepseek_v3" // V3 routes with a sigmoid; llama.cpp stores both as deepseek2
		}
		if h.Architecture == "llama" && h.ExpertCount > 0 {
			s.ModelType = "mixtral"
		}
	} else {
		approx = append(approx, fmt.Sprintf("architecture %q has no Hugging Face equivalent known to gpuplan; counts follow its tensor table", h.Architecture))
	}
	s.TextModelType = s.ModelType
	if s.ID == "" {
		s.ID = strings.TrimSuffix(path.Base(filepath.ToSlash(source)), ".gguf")
	}
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.Vocab == 0 {
		approx = append(approx, "vocabulary size missing")
	}
	if len(h.FeedForwardPerLayer) > 0 && slices.Min(h.FeedForwardPerLayer) != slices.Max(h.FeedForwardPerLayer) {
		approx = append(approx, "feed-forward width varies per layer; the largest is used")
	}
	if len(h.HeadCountPerLayer) > 0 && slices.Min(h.HeadCountPerLayer) != slices.Max(h.HeadCountPerLayer) {
		approx = append(approx, "head count varies per layer; the largest is used")
	}

	// Head width: key_length, else n_embd / n_head (llama.cpp's default).
	s.HeadDim = int(min(h.KeyLength, 1<<31))
	if s.HeadDim == 0 && s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
	if h.ValueLength != 0 && h.ValueLength != h.KeyLength && h.KVLoraRank == 0 {
		approx = append(approx, fmt.Sprintf("value width %d differs from key width %d; the key width is used for both", h.ValueLength, h.KeyLength))
	}

	// Multi-head latent attention. Newer conversions store the absorbed
	// layout (key_length = kv_lora_rank + rope) and the original widths in
	// key_length_mla / value_length_mla; older ones store the original
	// widths in key_length / value_length.
	if h.KVLoraRank > 0 {
		qk, v := h.KeyLengthMLA, h.ValueLengthMLA
		if qk == 0 {
			qk, v = h.KeyLength, h.ValueLength
		}
		rope := h.RopeDimensionCount
		if rope == 0 || qk <= rope {
			return nil, fmt.Errorf("MLA model with key width %d and rotary width %d: cannot split the head", qk, rope)
		}
		s.MLA = &MLA{QLoRARank: int(min(h.QLoraRank, 1<<31)), KVLoRARank: int(min(h.KVLoraRank, 1<<31)),
			QKNopeHeadDim: int(qk - rope), QKRopeHeadDim: int(rope), VHeadDim: int(min(v, 1<<31))}
		s.HeadDim = int(qk)
		s.KVHeads = s.Heads
	}

	// Structure from the first layer that has attention.
	l0 := 0
	for i := 0; i < s.Layers; i++ {
		if has(blk(i, "attn_q.weight")) || has(blk(i, "attn_qkv.weight")) || has(blk(i, "attn_q_a.weight")) || has(blk(i, "attn_q_b.weight")) {
			l0 = i
			break
		}
	}
	s.QKVBias = has(blk(l0, "attn_q.bias")) || has(blk(l0, "attn_qkv.bias"))
	s.OutBias = has(blk(l0, "attn_output.bias"))
	s.QKNorm = has(blk(l0, "attn_q_norm.weight")) && has(blk(l0, "attn_k_norm.weight"))
	s.AttentionSinks = has(blk(l0, "attn_sinks.weight")) || has(blk(l0, "attn_sinks"))
	if has(blk(l0, "attn_norm.bias")) {
		s.Norm = NormLayer
	}
	for _, n := range []string{"attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"} {
		if has(blk(l0, n+".weight")) {
			s.NormsPerLayer++
		}
	}
	if s.NormsPerLayer == 0 {
		s.NormsPerLayer = 2
		approx = append(approx, "norm tensors not recognised; 2 norms per layer assumed")
	}
	s.LMHeadBias = has("output.bias")
	gated, dense, anyMLP := false, false, false
	for i := 0; i < s.Layers; i++ {
		if has(blk(i, "ffn_up.weight")) || has(blk(i, "ffn_up_exps.weight")) {
			anyMLP = true
			gated = gated || has(blk(i, "ffn_gate.weight")) || has(blk(i, "ffn_gate_exps.weight"))
			s.MLPBias = s.MLPBias || has(blk(i, "ffn_up.bias"))
		}
		if !dense && has(blk(i, "ffn_up.weight")) {
			dense = true
			if t := tensors[blk(i, "ffn_up.weight")]; len(t.Dims) == 2 {
				s.Intermediate = int(min(t.Dims[1], 1<<31)) // [n_embd, n_ff]
			}
		}
	}
	if anyMLP {
		s.MLPGated = gated
	} else {
		approx = append(approx, "MLP tensors not recognised; a gated MLP is assumed")
	}

	if h.ExpertCount > 0 {
		m := &MoE{Experts: int(min(h.ExpertCount, 1<<31)), ExpertsPerToken: int(min(h.ExpertUsedCount, 1<<31)),
			ExpertIntermediate: int(min(h.ExpertFeedForwardLength, 1<<31)), SharedExperts: int(min(h.ExpertSharedCount, 1<<31))}
		moeSeen := false
		for i := 0; i < s.Layers; i++ {
			if !has(blk(i, "ffn_gate_inp.weight")) {
				m.DenseLayers = append(m.DenseLayers, i)
				continue
			}
			if !moeSeen {
				moeSeen = true
				// ffn_up_exps is [n_embd, n_ff_exp, n_expert] in ggml order.
				if t, ok := tensors[blk(i, "ffn_up_exps.weight")]; ok && len(t.Dims) == 3 {
					m.ExpertIntermediate = int(min(t.Dims[1], 1<<31))
				}
				if t, ok := tensors[blk(i, "ffn_up_shexp.weight")]; ok && len(t.Dims) == 2 {
					m.SharedIntermediate = int(min(t.Dims[1], 1<<31))
					if m.SharedExperts == 0 {
						m.SharedExperts = 1
					}
				}
				m.SharedExpertGate = has(blk(i, "ffn_gate_inp_shexp.weight"))
				m.RouterBias = has(blk(i, "ffn_gate_inp.bias"))
				m.ExpertBias = has(blk(i, "ffn_up_exps.bias"))
			}
		}
		if !moeSeen {
			// No router tensors found: fall back on the metadata.
			m.DenseLayers = nil
			for i := 0; i < int(min(h.LeadingDenseBlockCount, uint64(s.Layers))); i++ {
				m.DenseLayers = append(m.DenseLayers, i)
			}
			approx = append(approx, "router tensors not found; MoE layers assumed from leading_dense_block_count")
		}
		if m.ExpertIntermediate == 0 {
			m.ExpertIntermediate = s.Intermediate
		}
		if m.ExpertsPerToken == 0 {
			approx = append(approx, "experts used per token missing")
		}
		s.MoE = m
	}

	if err := ggufAttention(s, h, &approx); err != nil {
		return nil, err
	}

	switch {
	case h.HasFileType && h.FileType == 0:
		s.DType = dtype.FP32
	case h.HasFileType && h.FileType == 1:
		s.DType = dtype.FP16
	case h.HasFileType && h.FileType == 32:
		s.DType = dtype.BF16
	}
	if quantizedGGUF(f) {
		s.Quant = &Quantization{Method: dtype.CheckpointGGUF, Format: h.FileTypeName()}
	}
	s.Inventory = ggufInventory(source, f)
	s.Source = "gguf " + source + " (architecture " + h.Architecture + " from llama.cpp metadata, structure from the tensor table, weights exact"
	if len(approx) > 0 {
		s.Source += "; approximate: " + strings.Join(approx, "; ")
	}
	s.Source += ")"
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("GGUF metadata does not describe a usable architecture: %w", err)
	}
	return s, nil
}

// ggufAttention sets each layer's attention kind from head_count_kv
// (0 = no attention), the sliding-window metadata and llama.cpp's
// per-architecture patterns.
func ggufAttention(s *Spec, h *gguf.Hyperparameters, approx *[]string) error {
	kinds := make([]AttentionKind, s.Layers)
	for i := range kinds {
		kinds[i] = AttentionFull
		if i < len(h.HeadCountKVPerLayer) && h.HeadCountKVPerLayer[i] == 0 {
			kinds[i] = AttentionNone
		}
	}
	if len(h.HeadCountKVPerLayer) > 0 && len(h.HeadCountKVPerLayer) != s.Layers {
		return fmt.Errorf("head_count_kv has %d entries for %d layers", len(h.HeadCountKVPerLayer), s.Layers)
	}
	slide := func(i int) {
		if kinds[i] == AttentionFull {
			kinds[i] = AttentionSliding
		}
	}
	pattern := func(n int, set func(int)) {
		for i := range kinds {
			if n == 0 || i%n < n-1 {
				set(i)
			}
		}
	}
	switch {
	case h.Architecture == "llama4":
		s.AttentionChunk = llama4Chunk
		pattern(llama4Pattern, func(i int) {
			if kinds[i] == AttentionFull {
				kinds[i] = AttentionChunked
			}
		})
		*approx = append(*approx, fmt.Sprintf("attention chunk of %d tokens on 3 of every 4 layers, as llama.cpp assumes for llama4", llama4Chunk))
	case h.SlidingWindow == 0:
	case len(h.SlidingWindowLayers) > 0:
		if len(h.SlidingWindowLayers) != s.Layers {
			return fmt.Errorf("sliding_window_pattern has %d entries for %d layers", len(h.SlidingWindowLayers), s.Layers)
		}
		for i, sl := range h.SlidingWindowLayers {
			if sl {
				slide(i)
			}
		}
	case h.SlidingWindowPattern > 0:
		pattern(int(min(h.SlidingWindowPattern, 1<<20)), slide)
	default:
		if n, ok := ggufSWAPattern[h.Architecture]; ok {
			pattern(n, slide)
		} else {
			*approx = append(*approx, "sliding_window is set but llama.cpp applies no sliding pattern for this architecture; all layers counted as full attention (an upper bound on KV cache)")
		}
	}
	if h.SlidingWindow > 0 {
		s.SlidingWindow = int(min(h.SlidingWindow, 1<<40))
	}
	for _, k := range kinds {
		if k != AttentionFull {
			s.LayerAttention = kinds
			break
		}
	}
	if s.LayerAttention != nil && !slices.Contains(s.LayerAttention, AttentionSliding) {
		s.SlidingWindow = 0
	}
	return nil
}

// isSigmoidGating reports {arch}.expert_gating_func == 2 (sigmoid,
// LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID; gguf-py ExpertGatingFuncType).
func isSigmoidGating(f *gguf.File) bool {
	v, ok := f.Get("deepseek2.expert_gating_func")
	if !ok {
		return false
	}
	n, ok := v.Uint()
	return ok && n == 2
}

// quantizedGGUF reports whether any tensor is stored in a block-quantized
// type (anything but the plain float and integer types).
func quantizedGGUF(f *gguf.File) bool {
	for _, t := range f.Tensors {
		switch t.Type.String() {
		case "F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64":
		default:
			return true
		}
	}
	return false
}

// ggufInventory converts a GGUF tensor table. Shapes are given in PyTorch
// order (outermost first), the reverse of ggml's.
func ggufInventory(source string, f *gguf.File) *TensorInventory {
	inv := &TensorInventory{Format: "gguf", Source: source, ByDType: map[string]DTypeTotal{}}
	for _, t := range f.Tensors {
		shape := make([]int64, len(t.Dims))
		for i, d := range t.Dims {
			shape[len(shape)-1-i] = int64(d) // Parse checked each fits int64
		}
		inv.Tensors = append(inv.Tensors, TensorInfo{Name: t.Name, DType: t.Type.String(), Shape: shape, Bytes: units.Bytes(t.Bytes)})
	}
	all, by := f.Totals()
	inv.Params, inv.Bytes = all.Elements, units.Bytes(all.Bytes)
	for k, v := range by {
		inv.ByDType[k] = DTypeTotal{Elements: v.Elements, Bytes: units.Bytes(v.Bytes)}
	}
	return inv
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
