// Must not compile (with -Wunused-result an error): a failed registration would go unnoticed.
#pragma GCC diagnostic error "-Wunused-result"
#include <myrmex/myrmex.h>
void f(myrmex::Pid p) {
  myrmex::register_name("name", p);
}
