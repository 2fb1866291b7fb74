# CodeContests 1000_A "Codehorses T-shirts" in Python: the number of sizes of the new list that
# cannot be matched with an equal size of the old list.
import sys
from collections import Counter

data = sys.stdin.read().split()
n = int(data[0])
last = Counter(data[1:1 + n])
changes = 0
for s in data[1 + n:1 + 2 * n]:
    if last[s] > 0:
        last[s] -= 1
    else:
        changes += 1
print(changes)
