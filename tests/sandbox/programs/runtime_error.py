# Python runtime errors chosen by stdin: "raise" (uncaught exception, exit code 1), "exit N"
# (sys.exit(N)), "kill" (SIGKILL to itself). Leaves out others.
import os
import signal
import sys

words = sys.stdin.read().split()
print("partial output", flush=True)
if words[0] == "raise":
    raise ValueError("r1 uncaught")
if words[0] == "exit":
    sys.exit(int(words[1]))
if words[0] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
