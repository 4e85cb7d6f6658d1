// Package probe measures the machine it runs on for CPU inference: memory
// read bandwidth, a matrix rate per core, and the CPU's model, core count,
// memory and ISA flags (from /proc/cpuinfo and /proc/meminfo on Linux). The
// result is a hardware.CPUHost that `gpuplan probe` writes into a catalog
// overlay (cpu_hosts), so size, perf and plan can predict for on-premises
// and edge boxes that are not Azure sizes.
package probe

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpuplan/gpuplan/hardware"
)

// Options bound the measurement.
type Options struct {
	// BufferBytes is the total buffer read per bandwidth pass (split over
	// the threads); it must be well beyond the last-level cache. Default
	// 512 MiB.
	BufferBytes int64
	// Passes is the number of bandwidth passes (the best counts).
	Passes int
	// Threads is the reader and matrix threads; default runtime.NumCPU().
	Threads int
	// MatrixN is the square matrix size of the rate test (default 256).
	MatrixN int
}

func (o *Options) defaults() {
	if o.BufferBytes <= 0 {
		o.BufferBytes = 512 << 20
	}
	if o.Passes <= 0 {
		o.Passes = 5
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.MatrixN <= 0 {
		o.MatrixN = 256
	}
}

// ReadBandwidth measures memory read bandwidth in decimal GB/s: each thread
// sums its own slice of a buffer many times the cache size (as
// sc-membench's read test does), best of the passes.
func ReadBandwidth(o Options) float64 {
	o.defaults()
	words := o.BufferBytes / 8
	buf := make([]uint64, words)
	for i := range buf {
		buf[i] = uint64(i)
	}
	per := words / int64(o.Threads)
	best := 0.0
	var sink uint64
	var mu sync.Mutex
	for p := 0; p < o.Passes; p++ {
		var wg sync.WaitGroup
		start := time.Now()
		for t := 0; t < o.Threads; t++ {
			wg.Add(1)
			go func(part []uint64) {
				defer wg.Done()
				var s0, s1, s2, s3 uint64
				for i := 0; i+3 < len(part); i += 4 {
					s0 += part[i]
					s1 += part[i+1]
					s2 += part[i+2]
					s3 += part[i+3]
				}
				mu.Lock()
				sink += s0 + s1 + s2 + s3
				mu.Unlock()
			}(buf[int64(t)*per : int64(t+1)*per])
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		if gbs := float64(per*int64(o.Threads)*8) / el / 1e9; gbs > best {
			best = gbs
		}
	}
	if sink == 42 {
		fmt.Fprint(os.Stderr, "")
	}
	return best
}

// MatrixGFLOPSPerCore measures a float32 matrix-multiply rate per thread
// (2·n³ FLOPs per product, every thread multiplying its own matrices),
// the best of matrixRuns runs. It is Go's compiled code, not a BLAS: it
// stands for what a portable (non-vectorised) kernel reaches on this core.
// Only the products are timed (allocation and page faults are not), and
// the best of several runs is kept: on a shared virtual machine single
// runs of the same binary read 1.1 to 2.4 GFLOP/s, and the peak is what a
// core gives an engine that has it to itself.
func MatrixGFLOPSPerCore(o Options) float64 {
	o.defaults()
	n := o.MatrixN
	type operands struct{ a, b, c []float32 }
	ops := make([]operands, o.Threads)
	for t := range ops {
		a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], b[i] = float32(i%7), float32(i%5)
		}
		ops[t] = operands{a, b, c}
	}
	best := 0.0
	for run := 0; run < matrixRuns; run++ {
		var wg sync.WaitGroup
		start := time.Now()
		for t := 0; t < o.Threads; t++ {
			wg.Add(1)
			go func(a, b, c []float32) {
				defer wg.Done()
				clear(c)
				for i := 0; i < n; i++ {
					ci := c[i*n : (i+1)*n]
					for k := 0; k < n; k++ {
						aik := a[i*n+k]
						bk := b[k*n : (k+1)*n]
						for j := range ci {
							ci[j] += aik * bk[j]
						}
					}
				}
			}(ops[t].a, ops[t].b, ops[t].c)
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		if r := 2 * float64(n*n*n) / el / 1e9; r > best {
			best = r
		}
	}
	return best
}

// matrixRuns is how many timed products MatrixGFLOPSPerCore takes the best
// of: about 10 ms each at 256×256 on a 3 GFLOP/s core.
const matrixRuns = 9

// CPUInfo is what /proc/cpuinfo and /proc/meminfo say.
type CPUInfo struct {
	Model     string
	Threads   int
	Cores     int
	Flags     []string
	MemoryGiB float64
}

// isaFlags are the flags worth reporting for inference kernels.
var isaFlags = []string{"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "asimd", "asimddp", "sve", "sve2", "i8mm", "bf16"}

// ReadCPUInfo parses Linux's /proc files; elsewhere it reports the thread
// count only.
func ReadCPUInfo() CPUInfo {
	info := CPUInfo{Threads: runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		info = parseCPUInfo(f, info.Threads)
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fs := strings.Fields(l)
				if len(fs) >= 2 {
					kb, _ := strconv.ParseFloat(fs[1], 64)
					info.MemoryGiB = kb / (1 << 20)
				}
			}
		}
	}
	return info
}

func parseCPUInfo(f *os.File, threads int) CPUInfo {
	info := CPUInfo{Threads: threads}
	cores := map[string]bool{}
	flags := map[string]bool{}
	var phys, core string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Model":
			if info.Model == "" {
				info.Model = v
			}
		case "physical id":
			phys = v
		case "core id":
			core = v
			cores[phys+"/"+core] = true
		case "flags", "Features":
			for _, fl := range strings.Fields(v) {
				flags[fl] = true
			}
		}
	}
	info.Cores = len(cores)
	if info.Cores == 0 {
		info.Cores = threads
	}
	for _, fl := range isaFlags {
		if flags[fl] {
			info.Flags = append(info.Flags, fl)
		}
	}
	sort.Strings(info.Flags)
	return info
}

// Run measures the machine and returns it as a CPU host named name.
func Run(name string, o Options, now time.Time) hardware.CPUHost {
	o.defaults()
	info := ReadCPUInfo()
	bw := ReadBandwidth(o)
	mo := o
	mo.Threads = max(1, info.Cores)
	rate := MatrixGFLOPSPerCore(mo)
	return hardware.CPUHost{
		Name: name, CPUModel: info.Model, Cores: info.Cores, Threads: info.Threads, ISA: info.Flags,
		MemoryGiB: info.MemoryGiB, BandwidthGBPerS: bw, MatrixGFLOPSPerCore: rate,
		Measured: hardware.DateOf(now), Source: fmt.Sprintf("gpuplan probe: %d-thread read of %d MiB (best of %d), %d×%d float32 matmul per core", o.Threads, o.BufferBytes>>20, o.Passes, o.MatrixN, o.MatrixN),
	}
}
