// Compile-time bomb: unbounded template recursion. The compiler's depth limit ends it: CE,
// quickly. Leaves out running anything.
template <int N>
struct Deep {
  static const int value = Deep<N + 1>::value + 1;
};
int main() { return Deep<0>::value; }
