# checker_divisor.cpp in Python (`checker in out ans`, exit 0 = OK, 1 = wrong answer): any proper
# divisor of n is accepted. Leaves out testlib itself.
import sys

n = int(open(sys.argv[1]).read().split()[0])
out = open(sys.argv[2]).read().split()
d = int(out[0]) if out and out[0].lstrip("-").isdigit() else 0
if 1 < d < n and n % d == 0:
    sys.exit(0)
print(f"{d} is not a proper divisor of {n}", file=sys.stderr)
sys.exit(1)
