// Grows a vector until the allocation is refused (std::bad_alloc, uncaught, so abort()): the header
// promises MLE for "an allocation refused by the address-space limit", not RE. Leaves out catching.
#include <cstdio>
#include <vector>

int main() {
  std::vector<long long> v;
  for (long long i = 0;; ++i) v.push_back(i);
}
