// Compile-time bomb: 2^40 distinct template instantiations, far beyond any compile limit. Must end
// as CE (time or memory limit of the compilation) with nothing left behind. Leaves out running.
template <int N, long long M>
struct Blow {
  static const long long value = Blow<N - 1, 2 * M>::value + Blow<N - 1, 2 * M + 1>::value;
};
template <long long M>
struct Blow<0, M> {
  static const long long value = M;
};
int main() { return static_cast<int>(Blow<40, 1>::value); }
