// W3, Go side: two goroutines exchange a small integer, round trip after round trip. Figure: W3.pingpong
// ns per round trip, as bench/workloads/w3_pingpong.cpp and myrmex_bench.erl's w3.
//
//	myrmex-bench-go w3 round_trips=1000000 schedulers=1 reps=3
package main

import "time"

// pingPongMailbox is the buffer of each player's channel: 1. A player sends only after it has received
// the other's last message, so a mailbox never holds more than one and a send never blocks, as an actor's
// send does not. (Unbuffered channels would make every send a rendezvous, which no mailbox is.)
const pingPongMailbox = 1

// pong answers each number on its mailbox to ping; it returns after answering 0, the last.
func pong(mailbox <-chan int64, ping chan<- int64) {
	for left := range mailbox {
		ping <- left
		if left == 0 {
			return
		}
	}
}

// ping sends round_trips numbers, counting down to 0, each after the answer to the one before, then tells
// done.
func ping(mailbox <-chan int64, pong chan<- int64, roundTrips int64, done chan<- struct{}) {
	for left := roundTrips - 1; left >= 0; left-- {
		pong <- left
		<-mailbox
	}
	done <- struct{}{}
}

// pingPongNs runs roundTrips exchanges between two fresh goroutines and returns the ns per round trip.
// Timed as the C++ side: from just before ping starts (pong is already running) until ping is done.
func pingPongNs(roundTrips int64) float64 {
	pingMailbox := make(chan int64, pingPongMailbox)
	pongMailbox := make(chan int64, pingPongMailbox)
	done := make(chan struct{}, 1)
	go pong(pongMailbox, pingMailbox)
	clock := time.Now()
	go ping(pingMailbox, pongMailbox, roundTrips, done)
	<-done
	return nsSince(clock) / float64(roundTrips)
}

func w3PingPong(a args) {
	roundTrips := a["round_trips"]
	samples := repeat(a["reps"], func() float64 { return pingPongNs(roundTrips) })
	printFigure("W3.pingpong", a.params("schedulers"), "ns/rt", samples)
}
