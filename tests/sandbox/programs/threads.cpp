// Starts 16 std::threads with default stacks, each recursing 10000 deep, and prints how many
// finished ("16"): a judge must leave room for threads' stacks inside the memory limit. Leaves out
// anything else.
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

int depth(int n) { return n == 0 ? 0 : 1 + depth(n - 1); }

int main() {
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&finished] { finished += depth(10000) == 10000; });
  for (auto& t : threads) t.join();
  std::cout << finished << "\n";
}
