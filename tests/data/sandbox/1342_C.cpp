// CodeContests 1342_C "Yet Another Counting Problem": ((x mod a) mod b) != ((x mod b) mod a) is
// periodic in x with period a*b, so count through one period's prefix sums.
#include <iostream>
#include <vector>

int main() {
  int t;
  std::cin >> t;
  while (t--) {
    long long a, b;
    int q;
    std::cin >> a >> b >> q;
    const long long period = a * b;
    std::vector<long long> prefix(period + 1, 0);  // prefix[i]: such x in [0, i)
    for (long long x = 0; x < period; ++x)
      prefix[x + 1] = prefix[x] + ((x % a) % b != (x % b) % a ? 1 : 0);
    auto upto = [&](long long x) {  // such numbers in [0, x]
      return (x / period) * prefix[period] + prefix[x % period + 1];
    };
    for (int i = 0; i < q; ++i) {
      long long l, r;
      std::cin >> l >> r;
      std::cout << upto(r) - upto(l - 1) << (i + 1 < q ? " " : "\n");
    }
  }
}
