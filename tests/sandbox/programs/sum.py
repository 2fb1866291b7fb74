# Reference program in Python: prints the sum of the integers on stdin. Leaves out input
# validation.
import sys

print(sum(int(t) for t in sys.stdin.read().split()))
