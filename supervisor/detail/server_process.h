// The process behind a gen_server: a vm::Behaviour that owns the user's server object and dispatches each
// message to its callback through a table of type_info pointers built once per server type.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "mailbox/message.h"
#include "vm/call.h"
#include "vm/links.h"
#include "vm/process.h"
#include "vm/term.h"

namespace myrmex::gen_server::detail {

// Cast<T> carries a cast() (OTP's {'$gen_cast', Msg}): a plain send() of a T goes to handle_info().
template <class T>
struct Cast {
  T value;
};

// StopRequest carries stop() (OTP's sys:terminate).
struct StopRequest {
  Term reason;
};

// Started is the server's answer to its starter once init() returned.
struct Started {
  Ref ref;
  InitResult::Kind kind;
  bool name_taken = false;  // then `holder` holds the name
  Pid holder;
};

// ServerBase is what does not depend on the server's type: the start handshake, the name, the parent, the
// crash report.
class ServerBase : public vm::Behaviour {
 public:
  void init() final;
  void terminate(const Term& reason) final;
  // A swap keeps what the server process is besides the user's state: its starter, name and parent.
  void carry_over(vm::Behaviour& previous) final;

  // stop_current() ends the running server once its callback returns (stop_self()).
  static void stop_current(Term reason) { vm::Behaviour::stop(std::move(reason)); }

  // Set by start_server() before the process is spawned.
  Pid starter;
  Ref start_ref;
  std::string name;
  Pid parent;  // the process that started it linked: its exit signal ends the server (with terminate)

 protected:
  virtual InitResult user_init() = 0;
  virtual void user_terminate(const Term& reason) = 0;
  // handle_system() takes what the server type does not: stop(), and an Exit from the parent. False: the
  // message is handle_info's.
  bool handle_system(Message& m);
  // type_name() is the server's C++ type, for reports.
  virtual std::string type_name() const = 0;

 private:
  bool initialized_ = false;  // init() returned ok: terminate() is the user's to run
};

Expected<Pid, StartError> start_server(std::unique_ptr<ServerBase> server, StartOptions options);
// start_kind() starts a server on the current version of `kind` (gen_server::start(kind, args)).
Expected<Pid, StartError> start_kind(const std::string& kind, const Term& args, StartOptions options);

// The request message a `calls` entry stands for: a type naming its reply_type, or a RequestOf itself.
template <class T>
struct request_message {
  using type = vm::RequestOf<T, typename T::reply_type>;
};
template <class Q, class R>
struct request_message<vm::RequestOf<Q, R>> {
  using type = vm::RequestOf<Q, R>;
};

// A server's `calls` and `casts` lists (either may be left out: none of that kind).
template <class S>
auto calls_of() {
  if constexpr (requires { typename S::calls; })
    return typename S::calls{};
  else
    return Messages<>{};
}
template <class S>
auto casts_of() {
  if constexpr (requires { typename S::casts; })
    return typename S::casts{};
  else
    return Messages<>{};
}

template <class S>
class ServerProcess final : public ServerBase {
 public:
  explicit ServerProcess(S server) : server_(std::move(server)) {}
  // The version's entry points (gen_server::version<S>()).
  static std::unique_ptr<vm::Behaviour> start_version(const Term& args) {
    if constexpr (std::is_constructible_v<S, const Term&>) {
      return std::make_unique<ServerProcess>(S(args));
    } else {
      return std::make_unique<ServerProcess>(S{});
    }
  }
  static std::unique_ptr<vm::Behaviour> change_version(std::uint32_t old_version, const Term& state) {
    return std::make_unique<ServerProcess>(S::code_change(old_version, state));
  }

  void handle(Message& m) override {
    const std::uintptr_t type = m.type_word();
    const auto& entries = table();
    for (const Entry& e : entries)
      if (e.type == type) return e.handle(*this, m);
    if (handle_system(m)) return;
    // A type_info a shared library duplicated: same type, another address (never across a code library:
    // mailbox::detail::same_type()). The name hash in the type word rules out the others at once.
    for (const Entry& e : entries)
      if (mailbox::detail::same_type_word(e.type, type)) return e.handle(*this, m);
    handle_info(m);
  }

 private:
  using Handler = void (*)(ServerProcess&, Message&);
  struct Entry {
    std::uintptr_t type;  // mailbox::detail::type_word()
    Handler handle;
  };

  template <class... Calls, class... Casts>
  static auto make_table(Messages<Calls...>, Messages<Casts...>) {
    return std::array<Entry, sizeof...(Calls) + sizeof...(Casts)>{
        Entry{mailbox::detail::type_word<typename request_message<Calls>::type>(),
              &on_call<typename request_message<Calls>::type>}...,
        Entry{mailbox::detail::type_word<Cast<Casts>>(), &on_cast<Casts>}...};
  }
  static const auto& table() {
    static const auto entries = make_table(calls_of<S>(), casts_of<S>());
    return entries;
  }

  template <class Q>
  static void on_call(ServerProcess& p, Message& m) {
    using R = typename Q::reply_type;
    Q& request = *m.get<Q>();
    From<R> from{request.from, request.ref};
    S& s = p.server_;
    const auto invoke = [&]() -> decltype(auto) {
      if constexpr (requires { s.handle_call(request.value, from); }) {
        return s.handle_call(request.value, from);
      } else {
        static_assert(
            requires { s.handle_call(request.value); },
            "a server lists a request in `calls` but has no handle_call(Request&[, From<R>]) for it");
        return s.handle_call(request.value);
      }
    };
    using Returned = decltype(invoke());
    if constexpr (std::is_same_v<std::remove_cvref_t<Returned>, CallResult<R>>) {
      CallResult<R> result = invoke();
      if constexpr (std::is_void_v<R>) {
        if (result.replies()) vm::reply(request);
      } else {
        if (result.value()) vm::reply(request, std::move(*result.value()));
      }
    } else if constexpr (std::is_void_v<R>) {
      invoke();
      vm::reply(request);
    } else {
      vm::reply(request, invoke());
    }
  }

  template <class T>
  static void on_cast(ServerProcess& p, Message& m) {
    static_assert(
        requires(S & s, T & t) { s.handle_cast(t); },
        "a server lists a type in `casts` but has no handle_cast(T&) for it");
    p.server_.handle_cast(m.get<Cast<T>>()->value);
  }

  void handle_info(Message& m) {
    if constexpr (requires { server_.handle_info(m); }) server_.handle_info(m);
  }
  InitResult user_init() override {
    if constexpr (requires { server_.init(); }) {
      return server_.init();
    } else {
      return InitResult::ok();
    }
  }
  void user_terminate(const Term& reason) override {
    if constexpr (requires { server_.terminate(reason); }) server_.terminate(reason);
  }
  std::string type_name() const override { return mailbox::detail::demangle(typeid(S)); }
  Term export_state() override {
    if constexpr (requires(const S& s) { s.export_state(); }) {
      return server_.export_state();
    } else {
      return ServerBase::export_state();  // throws: this server cannot be swapped
    }
  }

  S server_;
};

}  // namespace myrmex::gen_server::detail
