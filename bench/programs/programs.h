// The Savina benchmark programs (Imam & Sarkar, AGERE 2014), one file each in bench/programs/, each beside
// its Erlang twin savina_<name>.erl. main.cpp registers each as the workload savina_<name>.
#pragma once

#include "bench/bench.h"

namespace myrmex::bench {

void savina_banking(const Args& args);       // bank transfers: source accounts call destinations, then ack
void savina_bndbuffer(const Args& args);     // producers and consumers through a bounded-buffer manager
void savina_concdict(const Args& args);      // workers read and write one dictionary server
void savina_logmap(const Args& args);        // logistic map series: workers call rate computers per term
void savina_philosophers(const Args& args);  // dining philosophers with an arbitrator: n m
void savina_sieve(const Args& args);         // prime sieve, a pipeline of filter actors: n m
void savina_radixsort(const Args& args);     // radix sort, a pipeline of one sort stage per bit: n max seed
void savina_nqueenk(const Args& args);       // first k solutions of n-queens: n k threshold workers

}  // namespace myrmex::bench
