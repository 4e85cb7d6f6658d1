package safetensors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sync/errgroup"
)

// maxParallelShards bounds concurrent shard header reads. Remote reads are
// small range requests, and the largest checkpoints have ~160 shards; eight
// at a time keeps a run short without hammering the server.
const maxParallelShards = 8

// ShardHeader is one file's header within a checkpoint.
type ShardHeader struct {
	// File is the shard's name relative to the checkpoint (or its path for
	// a single local file).
	File   string  `json:"file"`
	Header *Header `json:"header"`
}

// Checkpoint is the set of headers of a (possibly sharded) checkpoint.
type Checkpoint struct {
	// Shards are sorted by file name.
	Shards []ShardHeader `json:"shards"`
	// IndexTotalSize is the index's metadata.total_size, or -1.
	IndexTotalSize int64 `json:"index_total_size"`
}

// Tensors returns all tensors of all shards, sorted by name.
func (c *Checkpoint) Tensors() []Tensor {
	var out []Tensor
	for _, s := range c.Shards {
		out = append(out, s.Header.Tensors...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Totals sums every tensor of every shard, and per dtype.
func (c *Checkpoint) Totals() (all Totals, byDType map[string]Totals) {
	var ts []Tensor
	for _, s := range c.Shards {
		ts = append(ts, s.Header.Tensors...)
	}
	return sumTensors(ts)
}

// Opener opens one file of a checkpoint by its name relative to the
// checkpoint, returning a reader and the file size (-1 if unknown). If the
// reader is an io.Closer it is closed after its header is read.
type Opener func(ctx context.Context, name string) (io.ReaderAt, int64, error)

// ReadShards reads the header of every shard an index names, checks that
// each tensor the index lists is in the shard it names and that no tensor
// is stored twice, and returns the checkpoint.
//
// At most maxParallelShards headers are read at once; all of them draw
// from the context's Budget (DefaultMaxTotalHeaderBytes when it has none);
// the first error, a done context or a panic in a reader stops the rest.
func ReadShards(ctx context.Context, ix *Index, open Opener) (*Checkpoint, error) {
	ctx = ensureBudget(ctx)
	files := ix.Shards()
	headers := make([]*Header, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelShards)
	for i, f := range files {
		g.Go(func() (err error) {
			// A panic here would end the process (a server with it), not
			// just this read: turn it into this shard's error.
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("read safetensors header of %s: internal error: %v", f, p)
				}
			}()
			if gctx.Err() != nil {
				return gctx.Err()
			}
			h, err := readOne(gctx, open, f)
			if err != nil {
				return err
			}
			headers[i] = h
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	c := &Checkpoint{IndexTotalSize: ix.TotalSize}
	for i, f := range files {
		c.Shards = append(c.Shards, ShardHeader{File: f, Header: headers[i]})
	}
	if err := c.check(ix); err != nil {
		return nil, err
	}
	return c, nil
}

func readOne(ctx context.Context, open Opener, name string) (*Header, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, size, err := open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", name, err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	h, err := ReadHeaderContext(ctx, r, size)
	if err != nil {
		return nil, fmt.Errorf("read safetensors header of %s: %w", name, err)
	}
	return h, nil
}

// check verifies the shards against the index (nil index: shards only).
func (c *Checkpoint) check(ix *Index) error {
	where := make(map[string]string)
	for _, s := range c.Shards {
		for _, t := range s.Header.Tensors {
			if other, dup := where[t.Name]; dup {
				return fmt.Errorf("%w: tensor %q is stored in both %s and %s", ErrFormat, t.Name, other, s.File)
			}
			where[t.Name] = s.File
		}
	}
	if ix == nil {
		return nil
	}
	names := make([]string, 0, len(ix.WeightMap))
	for n := range ix.WeightMap {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := ix.WeightMap[n]
		got, ok := where[n]
		switch {
		case !ok:
			return fmt.Errorf("%w: index places tensor %q in %s, but no shard holds it", ErrFormat, n, want)
		case got != want:
			return fmt.Errorf("%w: index places tensor %q in %s, but it is in %s", ErrFormat, n, want, got)
		}
	}
	return nil
}

// FileOpener opens files under a local directory.
func FileOpener(dir string) Opener {
	return func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		if err := checkShardName(name); err != nil {
			return nil, 0, err
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
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
}

// ErrNoCheckpoint reports a directory without safetensors files.
var ErrNoCheckpoint = errors.New("no safetensors checkpoint")

// ReadDir reads the checkpoint in a local directory: the shards named by
// model.safetensors.index.json when present; otherwise model.safetensors;
// otherwise every *.safetensors file, which must then not repeat tensors
// (a directory with two copies of the weights in different layouts, like
// Mistral's consolidated.safetensors next to model-*.safetensors, needs the
// index to say which set to use).
func ReadDir(ctx context.Context, dir string) (*Checkpoint, error) {
	indexPath := filepath.Join(dir, IndexFile)
	if data, err := readSmallFile(indexPath, MaxIndexBytes); err == nil {
		ix, err := ParseIndex(data)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", indexPath, err)
		}
		return ReadShards(ctx, ix, FileOpener(dir))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", indexPath, err)
	}
	var files []string
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		files = []string{"model.safetensors"}
	} else {
		matches, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			files = append(files, filepath.Base(m))
		}
		sort.Strings(files)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w in %s (no %s and no *.safetensors files)", ErrNoCheckpoint, dir, IndexFile)
	}
	ctx = ensureBudget(ctx)
	c := &Checkpoint{IndexTotalSize: -1}
	open := FileOpener(dir)
	for _, f := range files {
		h, err := readOne(ctx, open, f)
		if err != nil {
			return nil, err
		}
		c.Shards = append(c.Shards, ShardHeader{File: f, Header: h})
	}
	if err := c.check(nil); err != nil {
		return nil, fmt.Errorf("%w (the directory holds several checkpoints; add %s or keep one set)", err, IndexFile)
	}
	return c, nil
}

// readSmallFile reads a whole file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than the %d-byte limit", limit)
	}
	return data, nil
}
