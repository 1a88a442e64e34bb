"""Write a synthetic labelled snapshot in the exporter's layout, for trying the retrain loop without a live worker.

A real snapshot comes from the worker (labels joined to logged predictions, exported on a drift alert, on a
schedule or on request); this script only imitates its files so that train.py and `sluice models promote
--require` have something to read. It writes <out>/<snapshot_id>/ with

  data.parquet   the rows (pyarrow)
  data.csv       the same rows as CSV: prediction_id, event_id, entity_id, event_time, model_name, model_version,
                 score, label, label_time, split, then the features sorted by name (empty = missing)
  manifest.json  a short description (illustrative: the exporter's manifest has more)

The features are those of config/sluice.yaml (last_country is a string feature). With --sql it prints the INSERT of
the snapshot's row into <schema>.snapshots, the table the promotion gate finds snapshots in:

    python examples/retrain/make_snapshot.py --out snapshots --id demo-1 --model fraud --sql | psql "$SLUICE_POSTGRES_URL"

(The schema must exist: run `sluice migrate` first. `--drift` shifts the data and how fraud looks, as in a
newer snapshot exported after a drift alert.)
"""
import argparse
import datetime as dt
import json
import os
import sys

import numpy as np
import pandas as pd

FIXED = ["prediction_id", "event_id", "entity_id", "event_time", "model_name", "model_version", "score", "label",
         "label_time", "split"]


def rfc3339(millis):
    return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def generate(rows, seed, drift, holdout_fraction, model):
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(3.4 + drift, 0.9, rows), 2)
    txn_1h = rng.poisson(1.5 + drift, rows)
    txn_24h = txn_1h + rng.poisson(6, rows)
    amount_sum_1h = np.round(amount * np.maximum(txn_1h, 1) * rng.uniform(0.6, 1.4, rows), 2)
    amount_mean_24h = np.round(amount * rng.uniform(0.5, 1.5, rows), 2)
    amount_max_24h = np.round(np.maximum(amount, amount_mean_24h * rng.uniform(1.0, 2.5, rows)), 2)
    amount_std_7d = np.round(amount_mean_24h * rng.uniform(0.1, 0.9, rows), 2)
    amount_std_7d[rng.random(rows) < 0.05] = np.nan  # fewer than two events in the window
    merchants_7d = rng.integers(1, 15, rows)
    secs_since_last = np.round(rng.exponential(4000, rows), 1)
    secs_since_last[rng.random(rows) < 0.08] = np.nan  # first event of the entity
    last_country = rng.choice(["DE", "FR", "GB", "US", "BR"], rows, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    logit = (-2.2 + 0.012 * (amount - 35) + 0.45 * txn_1h + 0.18 * (merchants_7d - 5)
             - 0.00025 * np.nan_to_num(secs_since_last, nan=4000) + 0.8 * (last_country == "BR")
             + 3.0 * drift * (merchants_7d >= 11) - 2.0 * drift * (txn_1h == 0)  # concept drift: new fraud patterns
             + rng.normal(0, 0.9, rows))
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    start = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
    event_ms = start + np.arange(rows) * 15_000
    split = np.where(rng.random(rows) < holdout_fraction, "holdout", "train")
    frame = pd.DataFrame({
        "prediction_id": [f"transactions/{i % 4}/{i // 4}" for i in range(rows)],
        "event_id": [f"e{i}" for i in range(rows)],
        "entity_id": [f"user-{i % 500}" for i in range(rows)],
        "event_time": [rfc3339(int(t)) for t in event_ms],
        "model_name": model,
        "model_version": 1,
        "score": np.round(1 / (1 + np.exp(-(logit + rng.normal(0, 1.5, rows)))), 6),
        "label": label.astype(float),
        "label_time": [rfc3339(int(t) + 3_600_000) for t in event_ms],
        "split": split,
        "amount": amount,
        "amount_max_24h": amount_max_24h,
        "amount_mean_24h": amount_mean_24h,
        "amount_std_7d": amount_std_7d,
        "amount_sum_1h": amount_sum_1h,
        "last_country": last_country,
        "merchants_7d": merchants_7d.astype(float),
        "secs_since_last": secs_since_last,
        "txn_count_1h": txn_1h.astype(float),
        "txn_count_24h": txn_24h.astype(float),
    })
    return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="snapshots", help="snapshots directory (default: snapshots)")
    parser.add_argument("--id", default="demo-1", help="snapshot id (default: demo-1)")
    parser.add_argument("--model", default="default", help="model name the snapshot is for (default: default)")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drift", type=float, default=0.0, help="shift the data and the fraud patterns by this much (0: none, 0.5: a lot)")
    parser.add_argument("--holdout-fraction", type=float, default=0.2)
    parser.add_argument("--schema", default="sluice", help="schema of the snapshots table, for --sql (default: sluice)")
    parser.add_argument("--sql", action="store_true", help="print the INSERT of the snapshot's row on standard output")
    args = parser.parse_args()

    frame = generate(args.rows, args.seed, args.drift, args.holdout_fraction, args.model)
    directory = os.path.abspath(os.path.join(args.out, args.id))
    os.makedirs(directory, exist_ok=True)
    frame.to_parquet(os.path.join(directory, "data.parquet"), engine="pyarrow", index=False)
    frame.to_csv(os.path.join(directory, "data.csv"), index=False, float_format="%.17g")
    holdout_rows = int((frame["split"] == "holdout").sum())
    created_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    manifest = {
        "snapshot_id": args.id, "created_at": created_at, "reason": "manual", "model": {"name": args.model, "version": 1},
        "rows": len(frame), "holdout_rows": holdout_rows, "files": {"parquet": "data.parquet", "csv": "data.csv"},
        "columns": list(frame.columns), "generator": "examples/retrain/make_snapshot.py",
    }
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(frame)} rows ({holdout_rows} holdout) to {directory}", file=sys.stderr)
    if args.sql:
        def q(text):
            return "'" + str(text).replace("'", "''") + "'"
        print(f"""INSERT INTO {args.schema}.snapshots (snapshot_id, created_at, reason, model_name, model_version, rows, holdout_rows,
    directory, parquet_file, csv_file, manifest_file, parquet_sha256, csv_sha256, manifest)
VALUES ({q(args.id)}, {q(created_at)}, 'manual', {q(args.model)}, 1, {len(frame)}, {holdout_rows},
    {q(directory)}, 'data.parquet', 'data.csv', 'manifest.json', '', '', {q(json.dumps(manifest))});""")


if __name__ == "__main__":
    main()
