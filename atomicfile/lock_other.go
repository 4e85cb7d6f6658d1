//go:build !unix

package atomicfile

import (
	"os"
	"sync"
)

// Without flock (Windows), the lock is held within this process only:
// gpuplan on those systems serialises its own writers and nothing more.
var (
	mu   sync.Mutex
	held = map[string]bool{}
)

func tryLock(f *os.File) (bool, error) {
	mu.Lock()
	defer mu.Unlock()
	if held[f.Name()] {
		return false, nil
	}
	held[f.Name()] = true
	return true, nil
}

func unlock(f *os.File) {
	mu.Lock()
	defer mu.Unlock()
	delete(held, f.Name())
}
