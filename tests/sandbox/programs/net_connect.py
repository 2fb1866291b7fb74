# Python version of net_connect.cpp: TCP connect to 127.0.0.1:PORT (the test's server), stdin
# "PORT ABSTRACT_NAME". Prints "tcp: connected" or "tcp: failed ERROR". Leaves out UDP and Unix.
import socket
import sys

port = int(sys.stdin.read().split()[0])
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    print("tcp: connected")
except OSError as e:
    print("tcp: failed", e)
