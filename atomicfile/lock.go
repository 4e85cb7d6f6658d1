package atomicfile

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Lock takes an exclusive advisory lock on path+".lock" (created if
// missing, never removed, so that every process locks the same inode) and
// returns the function that releases it. It waits, polling, until the
// lock is free or ctx ends. Writers that read a file, merge into it and
// write it back (the price cache) hold it for the whole read-merge-write,
// so two of them at once cannot lose each other's rows.
func Lock(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlock(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: another gpuplan holds it: %w", path, ctx.Err())
		case <-time.After(wait):
		}
	}
}
