// The workloads myrmex-bench can run, by name (see main.cpp for the table).
#pragma once

#include "bench/bench.h"

namespace myrmex::bench {

// W1–W6, W8 and W9 of ../shared/BENCH.md, plus the idle-node CPU check (workloads/).
void w1_spawn(const Args& args);
void w2_ring(const Args& args);
void w3_pingpong(const Args& args);
void w4_fanin(const Args& args);
void w5_call(const Args& args);
void w6_fairness(const Args& args);
void w8_supervisor(const Args& args);
void w9_exit(const Args& args);
void idle_node(const Args& args);
void stack_rss(const Args& args);

// Limits: the bare mechanisms underneath (scheduler/, mailbox/).
void limit_context_switch(const Args& args);
void limit_futex_wake(const Args& args);
void limit_handoff(const Args& args);
void limit_mpsc(const Args& args);

// dist/: encode and decode of the External Term Format, beside memcpy.
void terms(const Args& args);

// vm/code.h: hot code swap of idle gen_servers, one and 100k of a kind, and calls during swaps.
void swap_one(const Args& args);
void swap_all(const Args& args);
void swap_calls(const Args& args);

// registry/: lookups by name from every scheduler, beside lock-based maps.
void registry_whereis(const Args& args);

}  // namespace myrmex::bench
