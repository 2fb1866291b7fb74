# Burns CPU forever in Python: TLE by the CPU-time limit. Leaves out output.
x = 0
while True:
    x += 1
