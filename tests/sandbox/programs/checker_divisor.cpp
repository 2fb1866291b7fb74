// A testlib-style checker (`checker in out ans`, exit 0 = OK, 1 = wrong answer): the answer is any
// proper divisor d of n (1 < d < n); the jury's answer is not compared. Leaves out testlib itself.
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) return 3;
  std::ifstream in(argv[1]), out(argv[2]);
  long long n = 0, d = 0;
  if (!(in >> n)) return 3;
  if (!(out >> d)) {
    std::cerr << "no number in the output\n";
    return 1;
  }
  if (d <= 1 || d >= n || n % d != 0) {
    std::cerr << d << " is not a proper divisor of " << n << "\n";
    return 1;
  }
  return 0;
}
