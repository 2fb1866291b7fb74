# Python memory bomb: a list of 1 MiB byte strings that grows until a limit stops it: MLE. Leaves
# out freeing anything.
blocks = []
while True:
    blocks.append(bytearray(1 << 20))
