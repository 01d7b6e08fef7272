// Must compile: the control case, so that the others fail for their own reason and not a setup error.
// Ignoring a [[nodiscard]] result is an error here, as in ignore_register_result.cpp.
#pragma GCC diagnostic error "-Wunused-result"
#include <myrmex/myrmex.h>
struct Reset {
  using reply_type = void;
};
void f(const myrmex::Request<Reset>& r, myrmex::Pid to, myrmex::Message& m, myrmex::Message& n) {
  myrmex::reply(r);
  myrmex::send(to, std::move(m));
  myrmex::exit(to, myrmex::Term::atom("kill"));
  // A PID and a name both resolve through the umbrella header.
  myrmex::send(to, 1);
  (void)myrmex::send("name", 1);
  (void)myrmex::send(std::string("name"), std::move(n));
  (void)myrmex::monitor(to);
  (void)myrmex::monitor("name");
  if (!myrmex::register_name("name", to)) (void)myrmex::unregister_name("name");
}
