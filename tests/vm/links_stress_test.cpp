// Links and monitors under stress (the "stress" suite, which also runs under the sanitizers): link() and
// monitor() racing their target's exit on the other scheduler give exactly one outcome each, over two million
// tries; and what a process sent before it died is received before its Exit and Down while it migrates
// between schedulers.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/test_node.h"
#include "tests/vm/relations_helpers.h"

using namespace std::chrono_literals;
using myrmex::Exit;
using myrmex::MonitorRef;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::crash;
using myrmex::test::scaled;
using myrmex::test::wait_gone;

namespace {

// Tally counts the outcomes of link() and monitor() racing their targets' exits.
struct Tally {
  long pairs = 0;
  long none = 0, two = 0;            // a call with no outcome, or two
  long wrong = 0, inconsistent = 0;  // a reason not the target's, noproc then a live target
  long link_noproc = 0, link_reason = 0, down_noproc = 0, down_reason = 0;
};

// Outcome of one target: the Exits (from the link) and Downs (from the monitor) it gave, and whether each
// said noproc.
struct Outcome {
  int exits = 0, downs = 0;
  bool exit_noproc = false, down_noproc = false, wrong = false;
};

}  // namespace

TEST_SUITE("stress") {
  TEST_CASE(
      "link() and monitor() racing their target's exit on the other scheduler: exactly one outcome "
      "each, over 2M tries") {
    // Each round, one scheduler starts a batch of targets that end after a few yields each, while a racer
    // on the other scheduler links and monitors each of them (link first for half of them): every call
    // must give exactly one outcome, the target's reason or noproc.
    const int batch = 500;
    const long tries = scaled(2'000'000);  // a link and a monitor per target
    const long rounds = (tries / 2 + batch - 1) / batch;
    myrmex::Node node(config(2));
    Tally t;
    long real = 0;
    const auto t0 = std::chrono::steady_clock::now();
    node.run([&] {
      myrmex::set_trap_exit(true);
      const auto target = [](long r, int k) {
        for (long y = 0; y < (k + r * 7) % 24; ++y) myrmex::yield();
        myrmex::exit(crash("racing", k));
      };
      const auto racer = [&t](long r, const std::vector<Pid>& targets) {
        myrmex::set_trap_exit(true);
        std::vector<MonitorRef> refs(targets.size());
        std::vector<Outcome> out(targets.size());
        const int at = myrmex::test::scheduler_index();
        for (std::size_t k = 0; k < targets.size(); ++k) {
          if ((k + static_cast<std::size_t>(r)) % 2) {
            myrmex::link(targets[k]);
            refs[k] = myrmex::monitor(targets[k]);
          } else {
            refs[k] = myrmex::monitor(targets[k]);
            myrmex::link(targets[k]);
          }
        }
        // Every target's exit has run to its end once it is gone: all it sends is queued by then.
        for (Pid p : targets) wait_gone(p);
        // Index the targets by PID: a vector scan is too slow for 500.
        std::unordered_map<Pid, std::size_t> index;
        for (std::size_t k = 0; k < targets.size(); ++k) index.emplace(targets[k], k);
        std::unordered_map<std::uint64_t, std::size_t> by_ref;
        for (std::size_t k = 0; k < refs.size(); ++k) by_ref.emplace(refs[k].value, k);
        for (bool more = true; more;) {
          more = myrmex::receive(
              [&](Exit& e) {
                auto it = index.find(e.from);
                if (it == index.end()) return true;
                Outcome& o = out[it->second];
                ++o.exits;
                o.exit_noproc = e.reason == myrmex::atoms::noproc();
                o.wrong |= !o.exit_noproc && !(e.reason == crash("racing", static_cast<long>(it->second)));
                return true;
              },
              [&](myrmex::Down& d) {
                auto it = by_ref.find(d.ref.value);
                if (it == by_ref.end()) return true;
                Outcome& o = out[it->second];
                ++o.downs;
                o.down_noproc = d.reason == myrmex::atoms::noproc();
                o.wrong |= !o.down_noproc && !(d.reason == crash("racing", static_cast<long>(it->second)));
                return true;
              },
              myrmex::after(0ms, [] { return false; }));
        }
        for (std::size_t k = 0; k < out.size(); ++k) {
          const Outcome& o = out[k];
          const bool link_first = (k + static_cast<std::size_t>(r)) % 2;
          ++t.pairs;
          t.none += o.exits == 0 || o.downs == 0;
          t.two += o.exits > 1 || o.downs > 1;
          t.wrong += o.wrong;
          // The target cannot come back: noproc for the first call means noproc for the second.
          t.inconsistent +=
              link_first ? (o.exit_noproc && !o.down_noproc) : (o.down_noproc && !o.exit_noproc);
          t.link_noproc += o.exits == 1 && o.exit_noproc;
          t.link_reason += o.exits == 1 && !o.exit_noproc;
          t.down_noproc += o.downs == 1 && o.down_noproc;
          t.down_reason += o.downs == 1 && !o.down_noproc;
        }
        return at;
      };
      real = myrmex::test::race_apart(2, rounds, batch, target, racer);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(t.pairs, " targets (", 2 * t.pairs, " tries) in ", seconds, " s, ", real,
            " ended on the other scheduler: link() gave the reason ", t.link_reason, " times and noproc ",
            t.link_noproc, "; monitor() gave the reason ", t.down_reason, " and noproc ", t.down_noproc);
    CHECK(t.pairs == rounds * batch);
    CHECK(t.none == 0);
    CHECK(t.two == 0);
    CHECK(t.wrong == 0);
    CHECK(t.inconsistent == 0);
    // Both sides of each race were hit, across schedulers, or the test proved little.
    CHECK(t.link_noproc > 0);
    CHECK(t.link_reason > 0);
    CHECK(t.down_noproc > 0);
    CHECK(t.down_reason > 0);
    CHECK(real > 0);
  }

  TEST_CASE(
      "what a process sent before it died is received before its Exit and Down, over many rounds of "
      "migrating senders") {
    // Four schedulers on two cores (as the scheduler's FIFO stress test) so that senders are stolen often.
    struct Numbered {
      long n;
    };
    const long rounds = scaled(2000), messages = 500;
    const int senders = 8;
    myrmex::Node node(config(4));
    std::atomic<std::uint64_t> migrations{0};
    long bad = 0;
    node.run([&] {
      myrmex::set_trap_exit(true);
      for (long r = 0; r < rounds; ++r) {
        std::vector<Pid> pids;
        std::vector<MonitorRef> refs;
        Pid me = myrmex::self();
        for (int s = 0; s < senders; ++s) {
          pids.push_back(myrmex::spawn_link([me, s, &migrations] {
            for (long i = 0; i < messages; ++i) {
              myrmex::send(me, Numbered{s * messages + i});
              if (i % 16 == s % 16) myrmex::yield();
            }
            migrations += myrmex::process_info(myrmex::self())->migrations;
            myrmex::exit(Term::atom(s % 2 ? "normal" : "crashed"));
          }));
          refs.push_back(myrmex::monitor(pids.back()));
        }
        // Per sender: its messages in order, then its Exit and Down (in either order), nothing after.
        std::vector<long> next(senders, 0);
        std::vector<int> ended(senders, 0);
        const auto index = [&](Pid p) {
          for (int s = 0; s < senders; ++s)
            if (pids[static_cast<std::size_t>(s)] == p) return s;
          return -1;
        };
        for (long k = 0; k < senders * (messages + 2); ++k) {
          myrmex::receive(
              [&](Numbered& m) {
                const int s = static_cast<int>(m.n / messages);
                bad += ended[static_cast<std::size_t>(s)] > 0 ||
                       m.n % messages != next[static_cast<std::size_t>(s)];
                next[static_cast<std::size_t>(s)] = m.n % messages + 1;
              },
              [&](Exit& e) {
                const int s = index(e.from);
                bad += s < 0 || next[static_cast<std::size_t>(s)] != messages;
                if (s >= 0) ++ended[static_cast<std::size_t>(s)];
              },
              [&](myrmex::Down& d) {
                const int s = index(d.pid);
                bad += s < 0 || next[static_cast<std::size_t>(s)] != messages;
                if (s >= 0) ++ended[static_cast<std::size_t>(s)];
              },
              myrmex::after(30s, [&] { ++bad; }));
        }
        for (int s = 0; s < senders; ++s) bad += ended[static_cast<std::size_t>(s)] != 2;
        if (bad) break;
      }
    });
    MESSAGE("senders migrated ", migrations.load(), " times in all");
    CHECK(bad == 0);
    CHECK(migrations.load() > 0);
  }
}
