// The ping-pong that W3 and W6 share.
#pragma once

namespace myrmex::bench {

// pingpong_ns() runs `round_trips` exchanges of a small integer between two fresh processes and returns
// the ns per round trip. Process only.
double pingpong_ns(long round_trips);

}  // namespace myrmex::bench
