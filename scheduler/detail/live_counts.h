// Live object counts: how many envelopes, control blocks, behaviours and stacks exist right now.
//
// Internal to myrmex. The tests check at every test case's end that each count is back to zero (STYLE.md
// §9), so an API call that leaks when its caller is killed inside it fails a test. Counting must cost next
// to nothing on the hot paths: each thread counts in its own cache line with plain relaxed loads and
// stores (no RMW, no shared line); live() sums every thread's counter. Threads that end fold their counts
// into a shared total.
#pragma once

#include <cstdint>

namespace myrmex::scheduler::detail {

enum class Counted : unsigned { envelope, process, behaviour, stack, kinds };

// counted_add() adds `delta` (+1 made, -1 destroyed) to this thread's count of `kind` (any thread).
void counted_add(Counted kind, std::int64_t delta) noexcept;
// live() is the number of `kind` objects alive in the OS process, all nodes together (any thread; exact
// only while no thread is making or destroying one).
std::int64_t live(Counted kind) noexcept;
// counted_name() names a kind for reports ("envelope", ...).
const char* counted_name(Counted kind) noexcept;

}  // namespace myrmex::scheduler::detail
