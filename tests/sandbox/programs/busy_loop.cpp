// Burns CPU forever: TLE by the CPU-time limit (not the wall deadline). Leaves out output.
int main() {
  volatile unsigned long long x = 0;
  for (;;) ++x;
}
