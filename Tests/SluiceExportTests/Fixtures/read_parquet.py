"""Reads a Parquet file written by SluiceExport and prints what pyarrow (and
DuckDB, when installed) see, as JSON, for the Swift tests to compare.

Usage: <python> read_parquet.py FILE
Floating values are printed as IEEE-754 bit patterns (signed 64-bit ints;
float32 as its 32-bit pattern) so NaN, -0.0 and infinities compare exactly.
Booleans print as 0/1, timestamps as their integer count in the column's
unit (DuckDB: microseconds).
"""
import json
import struct
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def float_bits(value, is_float32):
    if value is None:
        return None
    if is_float32:
        return struct.unpack("<i", struct.pack("<f", value))[0]
    return struct.unpack("<q", struct.pack("<d", value))[0]


def encode_values(arrow_type, values):
    if pa.types.is_floating(arrow_type):
        return {"ints": [float_bits(v, pa.types.is_float32(arrow_type)) for v in values]}
    if pa.types.is_boolean(arrow_type):
        return {"ints": [None if v is None else int(v) for v in values]}
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return {"strings": values}
    return {"ints": values}


def raw_stat(value, arrow_type):
    if isinstance(value, bytes):
        return {"str": value.decode("utf-8")}
    if isinstance(value, str):
        return {"str": value}
    if pa.types.is_floating(arrow_type):
        return {"int": float_bits(value, pa.types.is_float32(arrow_type))}
    return {"int": int(value)}


def main():
    path = sys.argv[1]
    parquet_file = pq.ParquetFile(path)
    metadata = parquet_file.metadata
    table = parquet_file.read()
    result = {
        "num_rows": metadata.num_rows,
        "row_groups": [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)],
        "created_by": metadata.created_by,
        "file_size": __import__("os").path.getsize(path),
        "footer_length": metadata.serialized_size,
        "metadata": {k.decode(): v.decode() for k, v in (metadata.metadata or {}).items()},
        "columns": [],
    }
    for index, field in enumerate(table.schema):
        column = table.column(index)
        arrow_type = field.type
        if pa.types.is_timestamp(arrow_type):
            values = column.cast(pa.int64()).to_pylist()
        else:
            values = column.to_pylist()
        parquet_column = parquet_file.schema.column(index)
        entry = {
            "name": field.name,
            "type": str(arrow_type),
            "nullable": field.nullable,
            "physical": parquet_column.physical_type,
            "logical": str(parquet_column.logical_type),
            "converted": parquet_column.converted_type,
            "stats": [],
        }
        entry.update(encode_values(arrow_type, values))
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(index)
            stats = chunk.statistics
            stat = {
                "compression": chunk.compression,
                "null_count": None,
                "has_min_max": False,
                "encodings": list(chunk.encodings),
                "num_values": chunk.num_values,
                "data_page_offset": chunk.data_page_offset,
                "total_compressed_size": chunk.total_compressed_size,
                "total_uncompressed_size": chunk.total_uncompressed_size,
            }
            if stats is not None:
                stat["null_count"] = stats.null_count if stats.has_null_count else None
                stat["has_min_max"] = stats.has_min_max
                if stats.has_min_max:
                    stat["min"] = raw_stat(stats.min_raw, arrow_type)
                    stat["max"] = raw_stat(stats.max_raw, arrow_type)
            entry["stats"].append(stat)
        result["columns"].append(entry)

    try:
        import duckdb
    except ImportError:
        result["duckdb"] = None
    else:
        connection = duckdb.connect()
        described = connection.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        duck = {"types": [row[1] for row in described], "columns": []}
        for name, duck_type, *_ in described:
            quoted = '"' + name.replace('"', '""') + '"'
            expression = f"epoch_us({quoted})" if duck_type.startswith("TIMESTAMP") else quoted
            rows = connection.execute(f"SELECT {expression} FROM read_parquet(?)", [path]).fetchall()
            values = [row[0] for row in rows]
            if duck_type in ("DOUBLE", "FLOAT"):
                encoded = {"ints": [float_bits(v, duck_type == "FLOAT") for v in values]}
            elif duck_type == "BOOLEAN":
                encoded = {"ints": [None if v is None else int(v) for v in values]}
            elif duck_type == "VARCHAR":
                encoded = {"strings": values}
            else:
                encoded = {"ints": values}
            encoded["name"] = name
            duck["columns"].append(encoded)
        result["duckdb"] = duck
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
