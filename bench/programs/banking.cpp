// Savina's Banking (bank transactions, request/reply). A teller (the program's first process) sends N
// transfers between A account servers. The source account debits itself, calls the destination to
// credit the amount and waits for its answer, then acknowledges the transfer to the teller. Sources are
// drawn from the first 80% of the accounts and destinations above them, so a chain of accounts waiting
// on each other always ends. Savina sizes: A = 1000 accounts, N = 50000 transactions.
//
// Verifies: every transfer acknowledged exactly once, each final balance equal to a sequential replay of
// the same transfers, and the total balance conserved. Amounts are integers, so the sums are exact.
//
//   myrmex-bench savina_banking accounts=1000 transactions=50000 schedulers=1 reps=3
#include <cstdint>
#include <string>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

namespace gs = gen_server;
using savina::fail;

constexpr std::int64_t kInitialBalance = 1000000000;

// Credit asks an account to add `amount`; the answer is only an acknowledgement.
struct Credit {
  using reply_type = void;
  std::int64_t amount;
};
struct GetBalance {
  using reply_type = std::int64_t;
};
// Transfer (a cast to the source account) moves `amount` to `destination`, then tells `teller`.
struct Transfer {
  long id;
  Pid destination;
  std::int64_t amount;
  Pid teller;
};
struct Acknowledged {
  long id;
};

struct Account {
  using calls = gs::Messages<Credit, GetBalance>;
  using casts = gs::Messages<Transfer>;

  std::int64_t balance = kInitialBalance;

  void handle_call(Credit& c) { balance += c.amount; }
  std::int64_t handle_call(GetBalance&) { return balance; }
  void handle_cast(Transfer& t) {
    balance -= t.amount;
    if (!gs::call(t.destination, Credit{t.amount}, savina::kPatience))
      fail("banking: a credit got no answer");
    send(t.teller, Acknowledged{t.id});
  }
};

struct Transaction {
  long from, to;
  std::int64_t amount;
};

// transactions() draws Savina's transfers: a source in the first 80% of the accounts, a destination
// above it, an amount below 1000.
std::vector<Transaction> transactions(long accounts, long n) {
  savina::Random random(123456);
  std::vector<Transaction> out;
  out.reserve(n);
  for (long i = 0; i < n; ++i) {
    const long from = random.next_int(accounts / 10 * 8);
    const long step = random.next_int(accounts - from);
    out.push_back({from, from + (step == 0 ? 1 : step), random.next_int(1000)});
  }
  return out;
}

void banking(long accounts, long n) {
  std::vector<Pid> account;
  for (long i = 0; i < accounts; ++i) {
    auto started = gs::start_link(Account{});
    if (!started) fail("banking: an account did not start");
    account.push_back(*started);
  }
  const std::vector<Transaction> work = transactions(accounts, n);
  for (long i = 0; i < n; ++i)
    gs::cast(account[work[i].from], Transfer{i, account[work[i].to], work[i].amount, self()});

  std::vector<bool> acknowledged(n);
  for (long left = n; left > 0; --left)
    receive(
        [&](Acknowledged& a) {
          if (acknowledged[a.id]) fail("banking: transfer " + std::to_string(a.id) + " acknowledged twice");
          acknowledged[a.id] = true;
        },
        after(savina::kPatience,
              [&] { fail("banking: " + std::to_string(left) + " transfers unacknowledged"); }));

  std::vector<std::int64_t> expected(accounts, kInitialBalance);
  for (const Transaction& t : work) {
    expected[t.from] -= t.amount;
    expected[t.to] += t.amount;
  }
  std::int64_t total = 0;
  for (long i = 0; i < accounts; ++i) {
    auto balance = gs::call(account[i], GetBalance{}, savina::kPatience);
    if (!balance || *balance != expected[i])
      fail("banking: account " + std::to_string(i) + " has the wrong balance");
    total += *balance;
  }
  if (total != kInitialBalance * accounts) fail("banking: the total balance changed");
  for (Pid a : account)
    if (!gs::stop(a)) fail("banking: an account did not stop");
}

}  // namespace

void savina_banking(const Args& args) {
  const long accounts = args.get("accounts", 1000L), n = args.get("transactions", 50000L);
  if (accounts < 10 || n < 1) {
    std::fprintf(stderr, "savina_banking: needs accounts >= 10 and transactions >= 1\n");
    std::exit(2);
  }
  Params params;
  params.add("accounts", accounts).add("transactions", n);
  savina::run(args, "savina_banking", params, [&] { banking(accounts, n); });
}

}  // namespace myrmex::bench
