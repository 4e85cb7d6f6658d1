package safetensors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// paddedShard is a valid one-tensor header padded with spaces to about
// padBytes, as a hostile repository can publish: each shard is legal, and
// only their total is too much.
func paddedShard(t *testing.T, tensor string, padBytes int) *virtualFile {
	t.Helper()
	js := fmt.Sprintf(`{%q:{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, tensor) + strings.Repeat(" ", padBytes)
	return newVirtual(frame([]byte(js)), 1)
}

// countingOpener serves files and counts the bytes handed out.
type countingOpener struct {
	mu    sync.Mutex
	files map[string]*virtualFile
	bytes atomic.Int64
}

type countingReader struct {
	v *virtualFile
	o *countingOpener
}

func (c countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.o.mu.Lock()
	n, err := c.v.ReadAt(p, off)
	c.o.mu.Unlock()
	c.o.bytes.Add(int64(n))
	return n, err
}

func (o *countingOpener) open(_ context.Context, name string) (io.ReaderAt, int64, error) {
	v := o.files[name]
	return countingReader{v, o}, v.size, nil
}

// TestReadShardsHeaderBudget reads eight shards of 4 MB headers under a
// 6 MiB budget: the read fails with ErrHeaderBudget after fetching little
// more than the budget, instead of holding all 32 MB (a repository of
// eight 77 MB headers made one API request hold 8.9 GB).
func TestReadShardsHeaderBudget(t *testing.T) {
	o := &countingOpener{files: map[string]*virtualFile{}}
	wm := map[string]string{}
	for i := range 8 {
		name := fmt.Sprintf("model-%05d-of-00008.safetensors", i+1)
		tensor := fmt.Sprintf("t%d", i)
		o.files[name] = paddedShard(t, tensor, 4<<20)
		wm[tensor] = name
	}
	const budget = 6 << 20
	ctx := WithBudget(context.Background(), NewBudget(budget))
	_, err := ReadShards(ctx, &Index{TotalSize: -1, WeightMap: wm}, o.open)
	if !errors.Is(err, ErrHeaderBudget) {
		t.Fatalf("err = %v, want ErrHeaderBudget", err)
	}
	// Each shard's first read is free; the rest draws from the budget.
	if limit := int64(budget + 8*FirstReadBytes); o.bytes.Load() > limit {
		t.Errorf("read %d bytes, want at most %d", o.bytes.Load(), limit)
	}

	// The same shards fit a larger budget, and reading them spends it.
	o.bytes.Store(0)
	b := NewBudget(40 << 20)
	if _, err := ReadShards(WithBudget(context.Background(), b), &Index{TotalSize: -1, WeightMap: wm}, o.open); err != nil {
		t.Fatal(err)
	}
	if spent := 40<<20 - b.remaining.Load(); spent < 8*(4<<20-FirstReadBytes) {
		t.Errorf("budget spent %d bytes, want at least %d", spent, 8*(4<<20-FirstReadBytes))
	}
}

// cancelOnRest cancels its context when the rest of a header (the read
// after the first) is fetched, as a client giving up mid-request does.
type cancelOnRest struct {
	*virtualFile
	cancel context.CancelFunc
}

func (c cancelOnRest) ReadAt(p []byte, off int64) (int, error) {
	if off > 0 {
		c.cancel()
	}
	return c.virtualFile.ReadAt(p, off)
}

// TestReadHeaderContextCancelled: a request that ends while its header is
// being read stops the parse instead of finishing it for nobody.
func TestReadHeaderContextCancelled(t *testing.T) {
	prefix, data := buildPrefix(t, nil, manyTensors(5000))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := newVirtual(prefix, data)
	_, err := ReadHeaderContext(ctx, cancelOnRest{v, cancel}, v.size)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestReadShardsRecoversPanic: a panic in one shard's reader becomes that
// read's error; it must not end the process (a server with it).
func TestReadShardsRecoversPanic(t *testing.T) {
	open := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		if name == "b.safetensors" {
			panic("reader bug")
		}
		p, d := buildPrefixT(t, "x")
		v := newVirtual(p, d)
		return v, v.size, nil
	}
	_, err := ReadShards(context.Background(), &Index{TotalSize: -1, WeightMap: map[string]string{"x": "a.safetensors", "y": "b.safetensors"}}, open)
	if err == nil || !strings.Contains(err.Error(), "internal error: reader bug") {
		t.Fatalf("err = %v, want the recovered panic", err)
	}
}
