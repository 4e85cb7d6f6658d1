package gguf

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// splitName matches llama.cpp's split file names, "%s-%05d-of-%05d.gguf"
// (llama_split_path in src/llama.cpp), numbered from 1.
var splitName = regexp.MustCompile(`^(.*)-(\d{5})-of-(\d{5})\.gguf$`)

// maxSplits bounds split.count: the name format has five digits.
const maxSplits = 99999

// SplitNames returns the names of all files of a split model given the
// name (or URL path) of any of them, or false if the name is not a split
// name.
func SplitNames(name string) ([]string, bool) {
	m := splitName.FindStringSubmatch(name)
	if m == nil {
		return nil, false
	}
	n, _ := strconv.Atoi(m[3])
	i, _ := strconv.Atoi(m[2])
	if n < 1 || i < 1 || i > n {
		return nil, false
	}
	out := make([]string, n)
	for k := range out {
		out[k] = fmt.Sprintf("%s-%05d-of-%05d.gguf", m[1], k+1, n)
	}
	return out, true
}

// Opener opens a file by name, returning a reader and its size (-1 when
// unknown). Readers that are io.Closers are closed after parsing.
type Opener func(ctx context.Context, name string) (io.ReaderAt, int64, error)

// Open parses the GGUF file called name and, when its metadata says the
// model is split over several files (split.count > 1), the other files
// too, returning them merged (see Merge).
func Open(ctx context.Context, open Opener, name string, opts *Options) (*File, error) {
	first, err := parseNamed(ctx, open, name, opts)
	if err != nil {
		return nil, err
	}
	count := uint64(1)
	if v, ok := first.Get("split.count"); ok {
		if count, ok = v.Uint(); !ok || count == 0 || count > maxSplits {
			return nil, fmt.Errorf("read GGUF header of %s: %w: split.count is %s", name, ErrFormat, v)
		}
	}
	if count == 1 {
		return first, nil
	}
	names, ok := SplitNames(name)
	if !ok || uint64(len(names)) != count {
		return nil, fmt.Errorf("read GGUF header of %s: the file is part 1 of a %d-part model, but its name does not follow llama.cpp's <name>-00001-of-%05d.gguf pattern, so the other parts cannot be found", name, count, count)
	}
	files := []*File{first}
	if names[0] != name {
		return nil, fmt.Errorf("read GGUF header of %s: open the first part, %s, to read a split model", name, names[0])
	}
	for _, n := range names[1:] {
		f, err := parseNamed(ctx, open, n, opts)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return Merge(files)
}

func parseNamed(ctx context.Context, open Opener, name string, opts *Options) (*File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, size, err := open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	f, err := Parse(r, size, opts)
	if err != nil {
		return nil, fmt.Errorf("read GGUF header of %s: %w", name, err)
	}
	return f, nil
}

// Merge combines the files of a split model, in order: metadata from the
// first, tensors from all. Each file must carry split.no equal to its
// position, and the tensor total must match split.tensors.count when the
// first file gives it.
func Merge(files []*File) (*File, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("merge GGUF splits: no files")
	}
	first := files[0]
	out := &File{
		Version:     first.Version,
		KV:          first.KV,
		Alignment:   first.Alignment,
		HeaderBytes: first.HeaderBytes,
		DataOffset:  first.DataOffset,
		index:       first.index,
	}
	names := make(map[string]bool)
	var size int64
	for i, f := range files {
		if len(files) > 1 {
			v, ok := f.Get("split.no")
			no, isInt := v.Uint()
			if !ok || !isInt || no != uint64(i) {
				return nil, fmt.Errorf("%w: split part %d has split.no %s", ErrFormat, i+1, v)
			}
		}
		for _, t := range f.Tensors {
			if names[t.Name] {
				return nil, fmt.Errorf("%w: tensor %q appears in two split parts", ErrFormat, t.Name)
			}
			names[t.Name] = true
			out.Tensors = append(out.Tensors, t)
		}
		out.DataBytes += f.DataBytes
		if size >= 0 && f.Size >= 0 {
			size += f.Size
		} else {
			size = -1
		}
	}
	out.Size = size
	if v, ok := first.Get("split.tensors.count"); ok && len(files) > 1 {
		if n, ok := v.Uint(); !ok || n != uint64(len(out.Tensors)) {
			return nil, fmt.Errorf("%w: split.tensors.count is %s but the parts hold %d tensors", ErrFormat, v, len(out.Tensors))
		}
	}
	return out, nil
}
