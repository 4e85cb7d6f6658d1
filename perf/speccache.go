package perf

import (
	"sync"
	"sync/atomic"

	"github.com/gpuplan/gpuplan/model"
)

// specInfo holds what prepare derives from a Spec alone, so that a planner
// predicting one model on many deployments computes it once.
type specInfo struct {
	params model.Params
	kv     []model.KVLayer
	// fullAttention is the Spec with every layer attending fully (how
	// TensorRT-LLM sizes the cache without max_attention_window_size); the
	// Spec itself when it has no sliding or chunked layers.
	fullAttention *model.Spec
}

// specCache maps *model.Spec to *specInfo. Specs are treated as immutable
// once predicted with (the catalog and the loaders hand out fresh ones).
// It is cleared when it grows past maxSpecCache entries.
var (
	specCache     sync.Map
	specCacheSize atomic.Int64
)

const maxSpecCache = 4096

func infoOf(s *model.Spec) *specInfo {
	if v, ok := specCache.Load(s); ok {
		return v.(*specInfo)
	}
	info := &specInfo{params: s.Params(), kv: s.KVLayers(), fullAttention: s}
	if len(s.LayerAttention) > 0 {
		c := *s
		c.LayerAttention = nil
		c.SlidingWindow, c.AttentionChunk = 0, 0
		info.fullAttention = &c
	}
	if specCacheSize.Add(1) > maxSpecCache {
		specCache.Range(func(k, _ any) bool { specCache.Delete(k); return true })
		specCacheSize.Store(1)
	}
	v, _ := specCache.LoadOrStore(s, info)
	return v.(*specInfo)
}
