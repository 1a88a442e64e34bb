#!/usr/bin/env python3
"""Reads a snapshot directory with pyarrow (independently of Sluice) and prints what the tests check, as JSON.

usage: read_snapshot.py DIR [--rows]

- schema: [{name, type (pyarrow's spelling), nullable}]
- row_groups, num_rows, metadata (the Parquet footer's key/value pairs)
- sha256 and bytes of data.parquet, data.csv and manifest.json (hashlib, not Sluice)
- split_mismatches: rows whose `split` differs from the documented rule computed here
  (holdout iff fmix64(fnv1a64(utf8(entity_id))) / 2**64 < manifest holdout_fraction)
- entities_on_both_sides: entities with rows in train and in holdout
- rows (with --rows): each cell tagged: ["s", str], ["i", int], ["d", float], ["b", bool],
  ["t", epoch milliseconds], or null
"""
import hashlib
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def fmix64(h: int) -> int:
    mask = 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    h ^= h >> 33
    return h


def cell(value, arrow_type):
    if value is None:
        return None
    if pa.types.is_timestamp(arrow_type):
        return ["t", value]
    if pa.types.is_string(arrow_type):
        return ["s", value]
    if pa.types.is_boolean(arrow_type):
        return ["b", value]
    if pa.types.is_integer(arrow_type):
        return ["i", value]
    if pa.types.is_floating(arrow_type):
        return ["d", value]
    raise SystemExit(f"unexpected type {arrow_type}")


def main():
    directory = sys.argv[1]
    want_rows = "--rows" in sys.argv[2:]
    parquet = pq.ParquetFile(os.path.join(directory, "data.parquet"))
    table = parquet.read()
    with open(os.path.join(directory, "manifest.json"), "rb") as f:
        manifest = json.load(f)
    out = {
        "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in table.schema],
        "row_groups": parquet.num_row_groups,
        "num_rows": table.num_rows,
        "metadata": {k.decode(): v.decode() for k, v in (parquet.metadata.metadata or {}).items()},
        "files": {},
    }
    for name in ["data.parquet", "data.csv", "manifest.json"]:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        out["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    # Timestamps as epoch milliseconds, exactly.
    columns = {}
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.int64())
        columns[field.name] = column.to_pylist()
    if "split" in columns:
        fraction = manifest["holdout_fraction"]
        mismatches = 0
        sides = {}
        for entity, side in zip(columns["entity_id"], columns["split"]):
            expected = "holdout" if fmix64(fnv1a64(entity.encode("utf-8"))) / 2**64 < fraction else "train"
            mismatches += expected != side
            sides.setdefault(entity, set()).add(side)
        out["split_mismatches"] = mismatches
        out["entities_on_both_sides"] = sum(1 for s in sides.values() if len(s) > 1)
    if want_rows:
        out["rows"] = [
            [cell(columns[f.name][i], f.type) for f in table.schema] for i in range(table.num_rows)
        ]
    json.dump(out, sys.stdout)


main()
