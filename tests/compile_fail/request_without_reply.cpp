// Must not compile: an int names no reply type, so the server's clause must say which (Request<int, R>).
#include <myrmex/myrmex.h>
void f(myrmex::Request<int>& r) {
  myrmex::reply(r, 1);
}
