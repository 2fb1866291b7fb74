// Reference program: prints the sum of the integers on stdin (AC against the right answer, WA
// against a wrong one). Leaves out input validation.
#include <iostream>

int main() {
  long long x, sum = 0;
  while (std::cin >> x) sum += x;
  std::cout << sum << "\n";
}
