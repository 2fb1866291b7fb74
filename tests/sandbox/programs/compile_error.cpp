// A compile error: an undeclared identifier on line 5, which the compiler's first error must name.
// Nothing else is wrong with the program.
#include <cstdio>
int main() {
  const int x = undeclared_r1_identifier;
  std::printf("%d\n", x);
}
