# Fork bomb in Python: every process forks forever, ignoring failures. Contained by the process
# cap, ended by a time limit (TLE). Leaves out output.
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
