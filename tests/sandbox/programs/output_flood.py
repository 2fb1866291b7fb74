# Python output flood: 1 MiB blocks to stdout forever: OLE. Leaves out everything else.
import sys

block = "y" * (1 << 20)
while True:
    sys.stdout.write(block)
