"""Reads a CSV file written by SluiceExport with Python's csv module and
prints the parsed values as JSON for the Swift tests to compare.

Usage: <python> read_csv.py FILE TYPES
TYPES is a comma-separated list, one per column: double, float, int64,
int32, bool, string, timestamp. Empty fields print as null (strings keep
""). Doubles print as IEEE-754 bit patterns, floats as float32 bit
patterns, booleans as 0/1, timestamps as microseconds since the epoch
parsed with datetime.fromisoformat.
"""
import csv
import json
import struct
import sys
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def convert(kind, field):
    if kind == "string":
        return field
    if field == "":
        return None
    if kind == "double":
        return struct.unpack("<q", struct.pack("<d", float(field)))[0]
    if kind == "float":
        return struct.unpack("<i", struct.pack("<f", float(field)))[0]
    if kind in ("int64", "int32"):
        return int(field)
    if kind == "bool":
        return {"true": 1, "false": 0}[field]
    if kind == "timestamp":
        moment = datetime.fromisoformat(field)
        if moment.utcoffset() != timedelta(0):
            raise ValueError(f"timestamp not in UTC: {field}")
        return (moment - EPOCH) // timedelta(microseconds=1)
    raise ValueError(f"unknown type {kind}")


def main():
    path, types = sys.argv[1], sys.argv[2].split(",")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        columns = [[] for _ in types]
        rows = 0
        for record in reader:
            if len(record) != len(types):
                raise ValueError(f"row {rows} has {len(record)} fields, expected {len(types)}")
            for index, kind in enumerate(types):
                columns[index].append(convert(kind, record[index]))
            rows += 1
    result = {"header": header, "rows": rows, "columns": []}
    for kind, values in zip(types, columns):
        result["columns"].append({"strings": values} if kind == "string" else {"ints": values})
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
