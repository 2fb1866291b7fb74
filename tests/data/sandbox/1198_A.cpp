// CodeContests 1198_A "MP3": with k = floor(8I/n) bits per value at most K = 2^k distinct values
// may stay; keep the window of K consecutive distinct values holding the most elements.
#include <algorithm>
#include <iostream>
#include <vector>

int main() {
  long long n, bytes;
  std::cin >> n >> bytes;
  std::vector<long long> a(n);
  for (auto& x : a) std::cin >> x;
  std::sort(a.begin(), a.end());
  std::vector<long long> counts;  // counts of the distinct values, in increasing order
  for (long long i = 0; i < n; ++i) {
    if (i == 0 || a[i] != a[i - 1]) counts.push_back(0);
    ++counts.back();
  }
  const long long bits = 8 * bytes / n;
  const long long distinct = static_cast<long long>(counts.size());
  const long long keep = bits >= 40 ? distinct : std::min(distinct, 1LL << bits);
  long long window = 0, best = 0;
  for (long long i = 0; i < distinct; ++i) {
    window += counts[i];
    if (i >= keep) window -= counts[i - keep];
    best = std::max(best, window);
  }
  std::cout << n - best << "\n";
}
