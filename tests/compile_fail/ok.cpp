// Must compile: the control case, so that the others fail for their own reason and not a setup error.
#include <myrmex/myrmex.h>
struct Reset {
  using reply_type = void;
};
void f(const myrmex::Request<Reset>& r, myrmex::Pid to, myrmex::Message& m) {
  myrmex::reply(r);
  myrmex::send(to, std::move(m));
  myrmex::exit(to, myrmex::Term::atom("kill"));
}
