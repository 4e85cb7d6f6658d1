package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
)

// IndexFile is the name transformers gives the index of a sharded
// checkpoint (SAFE_WEIGHTS_INDEX_NAME in transformers/utils/constants.py).
const IndexFile = "model.safetensors.index.json"

// MaxIndexBytes bounds an index file. The largest public indexes (a few
// hundred thousand tensors, e.g. 671B-parameter MoE models) are around
// 10 MB; this leaves room while refusing absurd inputs.
const MaxIndexBytes = 64 << 20

// Index is a parsed model.safetensors.index.json.
type Index struct {
	// TotalSize is metadata.total_size (the writer's sum of tensor bytes),
	// or -1 when absent or not an integer. It is informational: the shard
	// headers are the authority.
	TotalSize int64 `json:"total_size"`
	// WeightMap maps each tensor name to the shard file holding it.
	WeightMap map[string]string `json:"weight_map"`
}

// ParseIndex parses and validates an index file.
func ParseIndex(data []byte) (*Index, error) {
	if len(data) > MaxIndexBytes {
		return nil, fmt.Errorf("%w: index is %d bytes, over the %d-byte limit", ErrFormat, len(data), MaxIndexBytes)
	}
	var raw struct {
		Metadata  map[string]json.RawMessage `json:"metadata"`
		WeightMap map[string]string          `json:"weight_map"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: index is not the expected JSON ({\"weight_map\": {tensor: file}}): %v", ErrFormat, err)
	}
	if len(raw.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: index has an empty or missing weight_map", ErrFormat)
	}
	ix := &Index{TotalSize: -1, WeightMap: raw.WeightMap}
	if ts, ok := raw.Metadata["total_size"]; ok {
		ix.TotalSize = parseSize(ts)
	}
	for name, file := range raw.WeightMap {
		if err := checkShardName(file); err != nil {
			return nil, fmt.Errorf("%w: index entry %q: %v", ErrFormat, name, err)
		}
	}
	return ix, nil
}

// parseSize reads an integer that some writers emit as a float (1.6e10).
func parseSize(raw json.RawMessage) int64 {
	s := strings.TrimSpace(string(raw))
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && v >= 0 {
		return v
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < math.MaxInt64 && f == math.Trunc(f) {
		return int64(f)
	}
	return -1
}

// checkShardName refuses shard names that could escape the checkpoint's
// directory or URL prefix.
func checkShardName(file string) error {
	switch {
	case file == "":
		return fmt.Errorf("empty shard file name")
	case strings.ContainsAny(file, "\\\x00"), strings.HasPrefix(file, "/"):
		return fmt.Errorf("shard file name %q is not a relative path", file)
	case path.Clean(file) != file || strings.HasPrefix(file, "../") || file == "..":
		return fmt.Errorf("shard file name %q is not a clean relative path", file)
	case !strings.HasSuffix(file, ".safetensors"):
		return fmt.Errorf("shard file name %q does not end in .safetensors", file)
	}
	return nil
}

// Shards lists the distinct shard files, sorted.
func (ix *Index) Shards() []string {
	set := make(map[string]bool)
	for _, f := range ix.WeightMap {
		set[f] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
