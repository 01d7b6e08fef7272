// W2, Go side: a token (an integer, the hops still to go) goes m times around a ring of n goroutines.
// Figures: W2.ring ns/hop over the n·m hops, W2.setup ns/proc to make the n mailboxes and start the n
// goroutines, as bench/workloads/w2_ring.cpp and myrmex_bench.erl's w2.
//
//	myrmex-bench-go w2 n=10000 m=100 schedulers=2 reps=3
package main

import (
	"sync"
	"time"
)

// ringMailbox is the buffer of each member's channel: 1. Only one token is ever in the ring, so a
// mailbox never holds more than one message and a send never blocks, as an actor's send does not; a
// bigger buffer would buy nothing here and cost 8 bytes a slot in every one of a million mailboxes.
const ringMailbox = 1

// member forwards the token to next until no hops are left, then hands it to done. Closing its mailbox
// stops it.
func member(mailbox <-chan int64, next chan<- int64, done chan<- int64, gone *sync.WaitGroup) {
	defer gone.Done()
	for hops := range mailbox {
		if hops == 0 {
			done <- hops
		} else {
			next <- hops - 1
		}
	}
}

// runRing builds a fresh ring, runs the token around it, tears it down (every goroutine has returned)
// and returns the setup ns per goroutine and the ns per hop.
func runRing(n, m int64) (setupNsPerProc, nsPerHop float64) {
	done := make(chan int64, ringMailbox)
	var gone sync.WaitGroup
	gone.Add(int(n))
	mailboxes := make([]chan int64, 0, n)

	setup := time.Now()
	// Built backwards: each member sends to the one started before it; the first, whose successor is the
	// last one, starts last, once that exists.
	first := make(chan int64, ringMailbox)
	mailboxes = append(mailboxes, first)
	for i := int64(1); i < n; i++ {
		mailbox := make(chan int64, ringMailbox)
		go member(mailbox, mailboxes[len(mailboxes)-1], done, &gone)
		mailboxes = append(mailboxes, mailbox)
	}
	go member(first, mailboxes[len(mailboxes)-1], done, &gone)
	setupNsPerProc = nsSince(setup) / float64(n)

	hops := n * m
	running := time.Now()
	first <- hops - 1
	<-done
	nsPerHop = nsSince(running) / float64(hops)

	for _, mailbox := range mailboxes {
		close(mailbox)
	}
	gone.Wait()
	return setupNsPerProc, nsPerHop
}

func w2Ring(a args) {
	n, m, reps := a["n"], a["m"], a["reps"]
	runRing(n, m) // warm-up
	var setup, hop []float64
	for r := int64(0); r < reps; r++ {
		s, h := runRing(n, m)
		setup, hop = append(setup, s), append(hop, h)
	}
	params := a.params("n", "m", "schedulers")
	printFigure("W2.ring", params, "ns/hop", hop)
	printFigure("W2.setup", params, "ns/proc", setup)
}
