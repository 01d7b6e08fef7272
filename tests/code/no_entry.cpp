// A shared library with no Myrmex entry point.
extern "C" __attribute__((visibility("default"))) int not_a_code_library() {
  return 42;
}
