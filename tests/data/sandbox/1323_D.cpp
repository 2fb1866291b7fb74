// CodeContests 1323_D "Present": bit k of the xor is the parity of the pairs whose sum has bit k
// set; with b = a mod 2^(k+1) sorted, those are the pairs with b_i + b_j in [2^k, 2^(k+1)) or
// [3 * 2^k, 2^(k+2)), counted with binary searches.
#include <algorithm>
#include <cstdio>
#include <vector>

int main() {
  int n;
  if (std::scanf("%d", &n) != 1) return 1;
  std::vector<int> a(n), b(n);
  for (auto& x : a)
    if (std::scanf("%d", &x) != 1) return 1;
  int result = 0;
  for (int k = 0; k < 25; ++k) {
    const int mod = 1 << (k + 1);
    for (int i = 0; i < n; ++i) b[i] = a[i] & (mod - 1);
    std::sort(b.begin(), b.end());
    // Pairs i < j with lo <= b_i + b_j <= hi.
    auto count = [&](long long lo, long long hi) {
      long long pairs = 0;
      for (int i = 0; i < n; ++i) {
        const auto first = std::lower_bound(b.begin() + i + 1, b.end(), lo - b[i]);
        const auto last = std::upper_bound(b.begin() + i + 1, b.end(), hi - b[i]);
        if (last > first) pairs += last - first;
      }
      return pairs;
    };
    const long long pairs =
        count(1LL << k, (1LL << (k + 1)) - 1) + count(3LL << k, (1LL << (k + 2)) - 2);
    if (pairs & 1) result |= 1 << k;
  }
  std::printf("%d\n", result);
}
