// The seeded mode: reproducible interleavings for race tests (ponyc's systematic testing, STYLE.md §10).
//
// Internal to myrmex; test-only. Exists in builds with MYRMEX_YIELD_POINTS (see yield_point.h).
#pragma once

namespace myrmex::scheduler::detail {

// YieldHook runs at every yield point reached, on the thread that reached it, with the point's name.
using YieldHook = void (*)(const char* name);
// set_yield_hook() installs `hook` (null removes it). Test-only; not while yield points are being reached.
void set_yield_hook(YieldHook hook) noexcept;

}  // namespace myrmex::scheduler::detail
