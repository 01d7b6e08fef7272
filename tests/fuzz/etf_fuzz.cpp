// etf_fuzz: the libFuzzer target for dist/etf.h. Any input may be rejected, but none may crash, leak or
// trip a sanitizer; and a term that decodes must survive encode() and decode() unchanged, or the target
// aborts with the three forms of it.
//
//   tools/fuzz [seconds]   builds it (clang, -Dfuzz=true, ASan+UBSan) and runs it on tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dist/etf.h"

namespace {

namespace dist = myrmex::dist;

[[noreturn]] void mismatch(const char* what, const myrmex::vm::Term& first, const std::string& bytes,
                           const std::string& second) {
  std::fprintf(stderr, "etf_fuzz: %s\n  decoded:    %s\n  re-encoded: %zu bytes\n  decoded again: %s\n", what,
               first.to_string().c_str(), bytes.size(), second.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto first = dist::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!first) return 0;
  const std::string bytes = dist::encode(*first);
  auto second = dist::decode(bytes);
  if (!second) mismatch("encode() wrote bytes decode() rejects", *first, bytes, second.error().to_string());
  if (!(*second == *first)) mismatch("the round trip changed the term", *first, bytes, second->to_string());
  return 0;
}
