# CodeContests 1238_B "Kill 'Em All": shoot the farthest living monster each time; after `shots`
# shots every remaining monster has moved shots * r to the left, so count the distinct positions
# (largest first) that are still positive when their turn comes.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    q = int(data[0])
    pos = 1
    out = []
    for _ in range(q):
        n, r = int(data[pos]), int(data[pos + 1])
        xs = sorted(set(map(int, data[pos + 2:pos + 2 + n])), reverse=True)
        pos += 2 + n
        shots = 0
        for x in xs:
            if x - shots * r > 0:
                shots += 1
        out.append(str(shots))
    sys.stdout.write("\n".join(out) + "\n")


main()
