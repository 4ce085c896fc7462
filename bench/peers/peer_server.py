"""The --serve mode of the PyTorch peers: warm up, print the header, then time
what standard input asks for, a line "KIND COUNT" at a time, answering each
with a line {"times": [ms, ...]} (bench/common.mjs, PeerServer)."""
import json
import sys


def serve(header, kinds):
    """kinds maps a kind to a function that makes one call and returns its time in ms."""
    for _ in range(2):  # warm-up (a forward alone runs several times slower until a backward has run)
        for fn in kinds.values():
            fn()
    print(json.dumps(header), flush=True)
    for line in sys.stdin:
        kind, count = line.split()
        print(json.dumps({"times": [kinds[kind]() for _ in range(int(count))]}), flush=True)
