// W4, Go side: k goroutines each send m small integers to one receiver goroutine that counts them.
// Figure: W4.fanin msg/s from releasing the senders until the receiver has counted k·m, as
// bench/workloads/w4_fanin.cpp and myrmex_bench.erl's w4.
//
//	myrmex-bench-go w4 k=4 m=1000000 schedulers=2 reps=3
package main

import (
	"sync"
	"time"
)

// fanInMailbox is the buffer of the receiver's channel: 1024. An actor's mailbox is unbounded and its
// senders never wait; a channel is bounded, and a full one parks the sender until the receiver makes
// room. 1024 is a size a Go user would pick for a busy inbox: big enough that the senders run ahead of
// the receiver instead of handing off one message at a time, and still only 8 KiB. A buffer of k·m (room
// for every message, as an unbounded mailbox has) is not what a Go program would do. On the 2-core test
// VM, busy, with k=4 m=200k and k=64 m=20k: a buffer of 1 gave about a third of the rate of 1024; 64,
// 1024 and 16384 were within the noise (about ±50 %) of each other.
const fanInMailbox = 1024

// sender waits for start to close, then sends m numbers to the receiver.
func sender(start <-chan struct{}, receiver chan<- int64, m int64, gone *sync.WaitGroup) {
	defer gone.Done()
	<-start
	for i := int64(0); i < m; i++ {
		receiver <- i
	}
}

// counter receives expected numbers, then tells done.
func counter(mailbox <-chan int64, expected int64, done chan<- struct{}) {
	for seen := int64(0); seen < expected; seen++ {
		<-mailbox
	}
	done <- struct{}{}
}

// fanInMsgsPerS runs one fan-in with fresh goroutines and returns messages per second. The senders are
// released together by closing one channel (a Go broadcast) rather than by a message to each.
func fanInMsgsPerS(k, m int64) float64 {
	mailbox := make(chan int64, fanInMailbox)
	done := make(chan struct{}, 1)
	start := make(chan struct{})
	var gone sync.WaitGroup
	gone.Add(int(k))
	go counter(mailbox, k*m, done)
	for i := int64(0); i < k; i++ {
		go sender(start, mailbox, m, &gone)
	}
	clock := time.Now()
	close(start)
	<-done
	rate := float64(k*m) / (nsSince(clock) * 1e-9)
	gone.Wait()
	return rate
}

func w4FanIn(a args) {
	k, m := a["k"], a["m"]
	samples := repeat(a["reps"], func() float64 { return fanInMsgsPerS(k, m) })
	printFigure("W4.fanin", a.params("k", "m", "schedulers"), "msg/s", samples)
}
