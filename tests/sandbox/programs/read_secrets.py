# Python version of read_secrets.cpp: each stdin line "file PATH" prints the file's first 4 KiB or
# the error, "dir PATH" lists it; then the environment. Leaves out /proc.
import os
import sys

for line in sys.stdin.read().splitlines():
    kind, path = line.split(maxsplit=1)
    try:
        if kind == "file":
            with open(path, "rb") as f:
                print("file", path, "read:", f.read(4096).decode(errors="replace"))
        else:
            print("dir", path + ":", " ".join(os.listdir(path)))
    except OSError as e:
        print(kind, path + ": failed", e)
print("environment:", " ".join(f"{k}={v}" for k, v in os.environ.items()))
