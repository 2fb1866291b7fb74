# CodeContests 12_B "Correct Solution?": the smallest number from n's digits is its smallest
# non-zero digit followed by the others in increasing order; Bob's answer must equal it as text.
import sys

n, m = sys.stdin.read().split()[:2]
digits = sorted(n)
if digits[0] == "0" and len(digits) > 1:
    first = next(i for i, d in enumerate(digits) if d != "0")
    digits = [digits[first]] + digits[:first] + digits[first + 1:]
print("OK" if "".join(digits) == m else "WRONG_ANSWER")
