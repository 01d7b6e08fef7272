// Savina's Producer-Consumer with Bounded Buffer. P producers each make I items (busy work of
// produce_cost per item) and put them into a buffer manager; C consumers take items from it and consume
// each (busy work of consume_cost). The manager holds at most B items: a Put into a full buffer is
// answered once a Take makes room, and a Take from an empty buffer once an item comes, so producers and
// consumers are plain loops of calls. A producer that is done says so; when every producer is done and the
// buffer is empty, a Take answers "no more". Savina sizes: B = 50, P = 40, C = 40, I = 1000 items per
// producer, produce and consume cost 25 (Savina's processItem: 100 logarithms per unit of cost).
//
// Verifies: every item (producer, sequence number) consumed exactly once.
//
//   myrmex-bench savina_bndbuffer buffer=50 producers=40 consumers=40 items=1000 produce_cost=25
//       consume_cost=25 schedulers=1 reps=3
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

namespace gs = gen_server;
using savina::fail;

struct Item {
  long producer;
  long seq;
  double value;
};

// Put waits until the manager took the item; Take's answer is an item, or none when all are consumed.
struct Put {
  using reply_type = void;
  Item item;
};
struct Take {
  using reply_type = std::optional<Item>;
};
// ProducerDone (a cast) says that a producer put its last item.
struct ProducerDone {};

class Manager {
 public:
  using calls = gs::Messages<Put, Take>;
  using casts = gs::Messages<ProducerDone>;

  Manager(std::size_t capacity, long producers) : capacity_(capacity), producers_left_(producers) {}

  gs::CallResult<void> handle_call(Put& p, gs::From<void> from) {
    if (!takers_.empty()) {  // the buffer is empty: straight to a waiting consumer
      gs::reply(takers_.front(), std::optional<Item>(p.item));
      takers_.pop_front();
    } else if (buffer_.size() < capacity_) {
      buffer_.push_back(p.item);
    } else {
      putters_.emplace_back(p.item, from);
      return gs::noreply;
    }
    return {};
  }

  gs::CallResult<std::optional<Item>> handle_call(Take&, gs::From<std::optional<Item>> from) {
    if (buffer_.empty()) {
      if (producers_left_ == 0) return std::optional<Item>();
      takers_.push_back(from);
      return gs::noreply;
    }
    std::optional<Item> item = buffer_.front();
    buffer_.pop_front();
    if (!putters_.empty()) {  // room for a waiting producer's item
      buffer_.push_back(putters_.front().first);
      gs::reply(putters_.front().second);
      putters_.pop_front();
    }
    return item;
  }

  void handle_cast(ProducerDone&) {
    if (--producers_left_ > 0) return;
    for (const auto& taker : takers_) gs::reply(taker, std::optional<Item>());  // the buffer is empty
    takers_.clear();
  }

 private:
  std::size_t capacity_;
  long producers_left_;
  std::deque<Item> buffer_;
  std::deque<std::pair<Item, gs::From<void>>> putters_;  // producers waiting for room, with their items
  std::deque<gs::From<std::optional<Item>>> takers_;     // consumers waiting for an item (buffer empty)
};

struct Sizes {
  long buffer, producers, consumers, items, produce_cost, consume_cost;
};

// Consumed is a consumer's report: every item it took, in order, and its last value.
struct Consumed {
  std::vector<Item> items;
  double value;
};

void produce(Pid manager, long id, const Sizes& s) {
  double value = 0;
  for (long seq = 0; seq < s.items; ++seq) {
    value = savina::busy_work(value, s.produce_cost);
    if (!gs::call(manager, Put{{id, seq, value}}, savina::kPatience)) fail("bndbuffer: a put got no answer");
  }
  gs::cast(manager, ProducerDone{});
}

void consume(Pid manager, Pid home, const Sizes& s) {
  Consumed report{{}, 0};
  for (;;) {
    auto item = gs::call(manager, Take{}, savina::kPatience);
    if (!item) fail("bndbuffer: a take got no answer");
    if (!*item) break;
    report.value = savina::busy_work(report.value + (*item)->value, s.consume_cost);
    report.items.push_back(**item);
  }
  send(home, std::move(report));
}

void bndbuffer(const Sizes& s) {
  auto manager = gs::start_link(Manager(static_cast<std::size_t>(s.buffer), s.producers));
  if (!manager) fail("bndbuffer: the manager did not start");
  for (long c = 0; c < s.consumers; ++c)
    spawn_link([m = *manager, home = self(), &s] { consume(m, home, s); });
  for (long p = 0; p < s.producers; ++p) spawn_link([m = *manager, p, &s] { produce(m, p, s); });

  std::vector<bool> seen(static_cast<std::size_t>(s.producers * s.items));
  long count = 0;
  for (long c = 0; c < s.consumers; ++c)
    receive(
        [&](Consumed& report) {
          for (const Item& item : report.items) {
            const std::size_t index = static_cast<std::size_t>(item.producer * s.items + item.seq);
            if (index >= seen.size() || seen[index]) fail("bndbuffer: an item consumed twice or never made");
            seen[index] = true;
            ++count;
          }
        },
        after(savina::kPatience, [] { fail("bndbuffer: a consumer did not report"); }));
  if (count != s.producers * s.items) fail("bndbuffer: " + std::to_string(count) + " items consumed");
  if (!gs::stop(*manager)) fail("bndbuffer: the manager did not stop");
}

}  // namespace

void savina_bndbuffer(const Args& args) {
  const Sizes s{args.get("buffer", 50L),  args.get("producers", 40L),    args.get("consumers", 40L),
                args.get("items", 1000L), args.get("produce_cost", 25L), args.get("consume_cost", 25L)};
  if (s.buffer < 1 || s.producers < 1 || s.consumers < 1 || s.items < 1) {
    std::fprintf(stderr, "savina_bndbuffer: needs buffer, producers, consumers and items >= 1\n");
    std::exit(2);
  }
  Params params;
  params.add("buffer", s.buffer).add("producers", s.producers).add("consumers", s.consumers);
  params.add("items", s.items).add("produce_cost", s.produce_cost).add("consume_cost", s.consume_cost);
  savina::run(args, "savina_bndbuffer", params, [&] { bndbuffer(s); });
}

}  // namespace myrmex::bench
