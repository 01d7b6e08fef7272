// myrmex-bench-go: the Go side of W2 (ring), W3 (ping-pong) and W4 (fan-in) of ../shared/BENCH.md (from
// the repository root), written as a Go user would write them: one goroutine per process, a buffered
// channel as each one's mailbox. Standard library only. It prints the same JSON figure lines as
// myrmex-bench (bench/bench.cpp) and bench/erlang/myrmex_bench.erl, with "impl":"go" and the same items
// and params text, so bench/run and bench-report put them beside Myrmex's and Erlang's.
//
// Build and run (bench/run does both; GOMAXPROCS is set from schedulers= either way):
//
//	cd bench/go && GOFLAGS=-mod=mod GOPROXY=off GOCACHE=$PWD/../../build/go-cache \
//	  go build -o ../../build/bench/myrmex-bench-go .
//	build/bench/myrmex-bench-go <w2|w3|w4> key=value ...
//
// Workloads and their arguments (defaults in brackets; schedulers defaults to the number of CPUs, and is
// the GOMAXPROCS the program runs with):
//
//	w2   n=[10000] m=[100] schedulers= reps=[3]      ring: setup per goroutine, token hop
//	w3   round_trips=[1000000] schedulers= reps=[3]  ping-pong
//	w4   k=[4] m=[1000000] schedulers= reps=[3]      fan-in of k senders into one receiver
//
// Each workload runs one untimed warm-up, then reps timed repetitions; median/min/max are over those.
// Figures go to stdout, one JSON line each; usage errors to stderr with exit status 2.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// spec is a workload's keys in params order, with their defaults (0: the number of CPUs, for schedulers).
type spec struct {
	keys     []string
	defaults map[string]int64
	run      func(a args)
}

var workloads = map[string]spec{
	"w2": {[]string{"n", "m", "schedulers", "reps"},
		map[string]int64{"n": 10000, "m": 100, "reps": 3}, w2Ring},
	"w3": {[]string{"round_trips", "schedulers", "reps"},
		map[string]int64{"round_trips": 1000000, "reps": 3}, w3PingPong},
	"w4": {[]string{"k", "m", "schedulers", "reps"},
		map[string]int64{"k": 4, "m": 1000000, "reps": 3}, w4FanIn},
}

const usageText = `usage: myrmex-bench-go WORKLOAD key=value ...
  w2   n=10000 m=100 schedulers=S reps=3
  w3   round_trips=1000000 schedulers=S reps=3
  w4   k=4 m=1000000 schedulers=S reps=3
`

func usage(problem string) {
	if problem != "" {
		fmt.Fprintf(os.Stderr, "myrmex-bench-go: %s\n", problem)
	}
	fmt.Fprint(os.Stderr, usageText)
	os.Exit(2)
}

// args are the key=value words after the workload name, all positive integers.
type args map[string]int64

func main() {
	if len(os.Args) < 2 {
		usage("")
	}
	w, ok := workloads[os.Args[1]]
	if !ok {
		usage("unknown workload '" + os.Args[1] + "'")
	}
	a := args{}
	for k, v := range w.defaults {
		a[k] = v
	}
	a["schedulers"] = int64(runtime.NumCPU())
	for _, word := range os.Args[2:] {
		key, text, found := strings.Cut(word, "=")
		if !found {
			usage("expected key=value, got '" + word + "'")
		}
		if _, known := a[key]; !known {
			usage("unknown key '" + key + "' for " + os.Args[1])
		}
		value, err := strconv.ParseInt(text, 10, 64)
		if err != nil || value <= 0 {
			usage("'" + word + "': the value must be a positive integer")
		}
		a[key] = value
	}
	// The schedulers key is what the figure says it ran on, so it is what the runtime gets, whatever
	// GOMAXPROCS said (bench/run sets both alike).
	runtime.GOMAXPROCS(int(a["schedulers"]))
	w.run(a)
}

// params renders the given keys of a as the JSON object of a figure, in that order.
func (a args) params(keys ...string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q:%d", k, a[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// median is the middle sample (the mean of the two middle ones for an even count; 0 for none), as
// bench/bench.cpp's.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// printFigure prints one figure line exactly as bench/bench.cpp's print() does (%.6g numbers: Go's %g with
// a precision switches to an exponent at the same points as C's and writes it the same, e+06).
func printFigure(item, params, unit string, samples []float64) {
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	lo, hi := 0.0, 0.0
	if len(s) > 0 {
		lo, hi = s[0], s[len(s)-1]
	}
	fmt.Printf("{\"impl\":\"go\",\"item\":\"%s\",\"params\":%s,\"median\":%.6g,\"min\":%.6g,\"max\":%.6g,"+
		"\"n\":%d,\"unit\":\"%s\"}\n", item, params, median(s), lo, hi, len(s), unit)
}

// repeat runs once one untimed time (warm-up), then reps times, and returns what each timed run returned.
func repeat(reps int64, once func() float64) []float64 {
	once()
	out := make([]float64, 0, reps)
	for i := int64(0); i < reps; i++ {
		out = append(out, once())
	}
	return out
}

// nsSince is the wall time since start in ns (time.Now carries a monotonic reading, as steady_clock).
func nsSince(start time.Time) float64 {
	return float64(time.Since(start).Nanoseconds())
}
