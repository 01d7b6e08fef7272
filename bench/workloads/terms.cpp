// terms: the External Term Format (dist/etf.h), encode and decode of three shapes, beside Erlang's
// term_to_binary/binary_to_term of the same terms:
//   small_tuple  {ok, 42, <<"hello">>}
//   list_1000    [{1, ok}, {2, ok}, ..., {1000, ok}]
//   binary_1m    a 1 MiB binary
// Each sample times `iterations` encodes (or decodes of the encoding) of one shape and is ns per term; the
// figure's mib_per_s is the encoding's bytes per second at the median. Beside the binary, the bare limit:
// a memcpy of 1 MiB into a buffer allocated once (limit.memcpy), which encode and decode cannot beat, since
// both copy the bytes once.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/workloads.h"
#include "dist/etf.h"

namespace myrmex::bench {

namespace {

using vm::Term;

constexpr std::size_t kBinaryBytes = 1 << 20;
constexpr long kBinaryIterations = 200;  // the binary's, and memcpy's
constexpr double kMiB = 1 << 20;

struct Shape {
  const char* name;
  Term term;
  long iterations;  // per sample; the same on the Erlang side
};

std::vector<Shape> shapes() {
  std::vector<Term> tuples;
  for (int i = 1; i <= 1000; ++i) tuples.push_back(Term::tuple({i, Term::atom("ok")}));
  return {{"small_tuple", Term::tuple({Term::atom("ok"), 42, Term::binary("hello")}), 200000},
          {"list_1000", Term::list(std::move(tuples)), 2000},
          {"binary_1m", Term::binary(std::string(kBinaryBytes, 'x')), kBinaryIterations}};
}

// keep() makes the compiler assume `p`'s bytes are read, so the work that wrote them stays.
void keep(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
}

// ns_per() is the ns of one call of `once`, over `iterations` calls.
template <class Once>
double ns_per(long iterations, Once once) {
  Stopwatch clock;
  for (long i = 0; i < iterations; ++i) once();
  return clock.ns() / static_cast<double>(iterations);
}

// report() prints the figure with its mib_per_s: `bytes` at the median time.
void report(const Figure& figure, std::size_t bytes) {
  print(figure, {{"mib_per_s", static_cast<double>(bytes) / kMiB / (median(figure.samples) * 1e-9)}});
}

}  // namespace

void terms(const Args& args) {
  const long reps = args.get("reps", 3);
  for (const Shape& shape : shapes()) {
    Params params;
    params.add("shape", shape.name);
    const std::string bytes = dist::encode(shape.term);
    auto back = dist::decode(bytes);
    if (!back || !(*back == shape.term)) std::abort();  // a bench must not time failures
    auto encode_ns = [&] { return ns_per(shape.iterations, [&] { keep(dist::encode(shape.term).data()); }); };
    auto decode_ns = [&] {
      return ns_per(shape.iterations, [&] {
        auto term = dist::decode(bytes);
        keep(&term);
      });
    };
    report({"terms.encode", params, "ns/term", repeat(reps, encode_ns)}, bytes.size());
    report({"terms.decode", params, "ns/term", repeat(reps, decode_ns)}, bytes.size());
  }

  std::string source(kBinaryBytes, 'x'), target(kBinaryBytes, '\0');
  Params params;
  params.add("bytes", static_cast<long>(kBinaryBytes));
  auto memcpy_ns = [&] {
    return ns_per(kBinaryIterations, [&] {
      std::memcpy(target.data(), source.data(), kBinaryBytes);
      keep(target.data());
    });
  };
  report({"limit.memcpy", params, "ns/copy", repeat(reps, memcpy_ns), "limit"}, kBinaryBytes);
}

}  // namespace myrmex::bench
