// CodeContests 1000_A "Codehorses T-shirts": sizes matched between the two lists cost nothing;
// every unmatched size can be turned into an unmatched one of the same length with one replacement.
#include <iostream>
#include <map>
#include <string>

int main() {
  int n;
  std::cin >> n;
  std::map<std::string, int> last;
  for (int i = 0; i < n; ++i) {
    std::string s;
    std::cin >> s;
    ++last[s];
  }
  int changes = 0;
  for (int i = 0; i < n; ++i) {
    std::string s;
    std::cin >> s;
    if (last[s] > 0)
      --last[s];
    else
      ++changes;
  }
  std::cout << changes << "\n";
}
