"""Decompresses raw Snappy blocks written by SluiceExport with pyarrow's
snappy codec and reports whether each equals its original.

Usage: <python> snappy_check.py DIR COUNT
Reads DIR/case-<i>.raw and DIR/case-<i>.snappy for i in 0..COUNT-1 and
prints a JSON list of {"equal": bool, "length": int}.
"""
import json
import os
import sys

import pyarrow as pa


def main():
    directory, count = sys.argv[1], int(sys.argv[2])
    results = []
    for index in range(count):
        with open(os.path.join(directory, f"case-{index}.raw"), "rb") as handle:
            original = handle.read()
        with open(os.path.join(directory, f"case-{index}.snappy"), "rb") as handle:
            compressed = handle.read()
        decompressed = pa.decompress(compressed, decompressed_size=len(original), codec="snappy", asbytes=True)
        results.append({"equal": decompressed == original, "length": len(decompressed)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
