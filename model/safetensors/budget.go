package safetensors

import (
	"context"
	"fmt"
	"sync/atomic"
)

// DefaultMaxTotalHeaderBytes bounds the header bytes ReadShards reads for
// one checkpoint when the context carries no budget of its own. The
// largest public checkpoints (DeepSeek-V3's 163 shards, ~91k tensors)
// have a few MB of headers in all; a hostile repository of eight 77 MB
// headers used to make one request hold 8.9 GB.
const DefaultMaxTotalHeaderBytes = 256 << 20

// ErrHeaderBudget is wrapped by the error returned when reading a header
// would exceed the bytes its Budget allows.
var ErrHeaderBudget = fmt.Errorf("safetensors header budget exceeded")

// Budget is a number of header bytes that every header read under one
// context draws from, so that a caller (one API request, one model
// resolution) is bounded in total, not only per file. It is safe for
// concurrent use by the shard readers.
type Budget struct {
	limit     int64
	remaining atomic.Int64
}

// NewBudget returns a budget of n bytes.
func NewBudget(n int64) *Budget {
	b := &Budget{limit: n}
	b.remaining.Store(n)
	return b
}

// take reserves n bytes, or fails without reserving anything.
func (b *Budget) take(n int64, file string) error {
	if b == nil {
		return nil
	}
	for {
		r := b.remaining.Load()
		if n > r {
			return fmt.Errorf("%w: the header of %s is %d bytes, and only %d of the %d allowed for this checkpoint remain", ErrHeaderBudget, file, n, max(r, 0), b.limit)
		}
		if b.remaining.CompareAndSwap(r, r-n) {
			return nil
		}
	}
}

type budgetKey struct{}

// WithBudget returns a context whose header reads (ReadHeaderContext,
// ReadShards, ReadDir) draw from b.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// budgetFrom is the context's budget, or nil.
func budgetFrom(ctx context.Context) *Budget {
	b, _ := ctx.Value(budgetKey{}).(*Budget)
	return b
}

// ensureBudget gives ctx a budget of DefaultMaxTotalHeaderBytes unless it
// has one already.
func ensureBudget(ctx context.Context) context.Context {
	if budgetFrom(ctx) != nil {
		return ctx
	}
	return WithBudget(ctx, NewBudget(DefaultMaxTotalHeaderBytes))
}
