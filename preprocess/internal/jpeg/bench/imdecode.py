#!/usr/bin/python3
"""Peer timing for the decode stage: OpenCV's cv2.imdecode (libjpeg-turbo) on one thread.

Usage: /usr/bin/python3 imdecode.py DEVDIR [N] [ROUNDS]

Reads the first N (default 200) JPEGs of DEVDIR (relative paths sorted as strings, the order
preprocess's BenchmarkDecodeDev200 uses) into memory, then decodes all of them ROUNDS times
(default 15) with cv2.imdecode(..., IMREAD_COLOR) and prints the fastest round, in wall time
and in process CPU time (which leaves out the time other processes held the core), as
"imdecode N photos: X ms/photo Y cpu-ms/photo". Run it pinned to the core the Go benchmark
uses (`make bench-decode` does both, alternately).
"""
import os
import sys
import time

import cv2
import numpy as np


def dev_jpegs(root, n):
    paths = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.lower().endswith((".jpg", ".jpeg")):
                paths.append(os.path.relpath(os.path.join(d, f), root))
    paths.sort()
    return [os.path.join(root, p) for p in paths[:n]]


def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    cv2.setNumThreads(1)
    bufs = []
    for p in dev_jpegs(root, n):
        with open(p, "rb") as f:
            bufs.append(np.frombuffer(f.read(), np.uint8))
    for b in bufs:  # warm up, and check every file decodes
        if cv2.imdecode(b, cv2.IMREAD_COLOR) is None:
            sys.exit("imdecode failed")
    best = cpu_best = float("inf")
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        for b in bufs:
            cv2.imdecode(b, cv2.IMREAD_COLOR)
        best = min(best, time.perf_counter() - t0)
        cpu_best = min(cpu_best, time.process_time() - c0)
    print("imdecode %d photos: %.3f ms/photo %.3f cpu-ms/photo"
          % (len(bufs), best * 1e3 / len(bufs), cpu_best * 1e3 / len(bufs)))


if __name__ == "__main__":
    main()
