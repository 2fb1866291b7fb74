# Starts 16 threading.Threads with default stacks and prints how many finished ("16"): a judge
# must leave room for threads' stacks inside the memory limit. Leaves out anything else.
import threading

done = []
lock = threading.Lock()


def work():
    with lock:
        done.append(sum(range(1000)))


threads = [threading.Thread(target=work) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(done))
