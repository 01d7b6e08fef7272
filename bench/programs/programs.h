// The Savina programs (Imam & Sarkar, AGERE 2014) myrmex-bench runs, each beside its Erlang twin
// bench/programs/savina_<name>.erl (see main.cpp for the table).
#pragma once

#include "bench/bench.h"

namespace myrmex::bench {

void savina_philosophers(const Args& args);  // dining philosophers with an arbitrator: n m
void savina_sieve(const Args& args);         // prime sieve, a pipeline of filter actors: n m
void savina_radixsort(const Args& args);     // radix sort, a pipeline of one sort stage per bit: n max seed
void savina_nqueenk(const Args& args);       // first k solutions of n-queens: n k threshold workers

}  // namespace myrmex::bench
