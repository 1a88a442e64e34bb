"""Retrain a model on a labelled snapshot, register it as staging, and print the gated promote command.

    python examples/retrain/train.py SNAPSHOT_DIR --name NAME [--config config/sluice.yaml] [--sluice PATH]

SNAPSHOT_DIR is one exported snapshot, <snapshots.directory>/<snapshot_id>/, holding data.parquet, data.csv and
manifest.json (see docs/models.md, "Promotion gate", for the columns). The script

 1. reads data.parquet (pyarrow), or data.csv when there is no Parquet file;
 2. trains an XGBoost binary:logistic model on the rows with split == "train", using every numeric feature
    column (string features such as last_country are left out: a Sluice model scores numbers; empty cells are
    missing values, which XGBoost routes down its default branches as the Swift evaluator does);
 3. evaluates AUC and logloss on the rows with split == "holdout" and prints them;
 4. saves the model as XGBoost JSON, NAME-SNAPSHOT.json, and the training rows' feature columns as the reference
    CSV the drift monitor compares live windows with, NAME-SNAPSHOT-reference.csv (in --out-dir, default .);
 5. registers it: sluice models register --name NAME --file NAME-SNAPSHOT.json --stage staging
    --reference NAME-SNAPSHOT-reference.csv;
 6. prints the `sluice models promote NAME VERSION --require …` command that promotes it only if it does at least
    as well as production on the same holdout rows.

--no-register stops after step 4. The snapshot's id for --snapshot is taken from manifest.json, else the
directory's name.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

# The columns before the features (docs/models.md, "Promotion gate"); every other column is a feature.
FIXED = ["prediction_id", "event_id", "entity_id", "event_time", "model_name", "model_version", "score", "label",
         "label_time", "split"]


def read_snapshot(directory):
    parquet = os.path.join(directory, "data.parquet")
    csv = os.path.join(directory, "data.csv")
    if os.path.exists(parquet):
        return pd.read_parquet(parquet, engine="pyarrow"), parquet
    if os.path.exists(csv):
        # Keep strings as strings (a string feature of "NA" is a country code, not a missing value).
        return pd.read_csv(csv, keep_default_na=False, na_values=[""]), csv
    sys.exit(f"train.py: {directory} has neither data.parquet nor data.csv; expected an exported snapshot directory")


def snapshot_id(directory):
    manifest = os.path.join(directory, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            value = json.load(f).get("snapshot_id")
        if value:
            return str(value)
    return os.path.basename(os.path.normpath(directory))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshot", help="snapshot directory (data.parquet, data.csv, manifest.json)")
    parser.add_argument("--name", default="default", help="model name in the registry (default: default, as model.name)")
    parser.add_argument("--config", default="config/sluice.yaml", help="sluice configuration (default: config/sluice.yaml)")
    parser.add_argument("--sluice", default=os.environ.get("SLUICE_BIN", "sluice"), help="the sluice binary (default: $SLUICE_BIN or sluice)")
    parser.add_argument("--out-dir", default=".", help="where to write NAME-SNAPSHOT.json and NAME-SNAPSHOT-reference.csv "
                        "(default: the current directory)")
    parser.add_argument("--rounds", type=int, default=60, help="boosting rounds (default: 60)")
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-register", action="store_true", help="train and evaluate only")
    args = parser.parse_args()

    frame, source = read_snapshot(args.snapshot)
    missing = [c for c in ("label", "split") if c not in frame.columns]
    if missing:
        sys.exit(f"train.py: {source} has no {' or '.join(missing)} column; expected a labelled snapshot exported with a "
                 "holdout (snapshots.holdout_fraction > 0)")
    features = [c for c in frame.columns if c not in FIXED]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    dropped = [c for c in features if c not in numeric]
    train = frame[frame["split"] == "train"]
    holdout = frame[frame["split"] == "holdout"]
    if train.empty or holdout.empty:
        sys.exit(f"train.py: {source} has {len(train)} train and {len(holdout)} holdout rows; expected both")
    print(f"snapshot {snapshot_id(args.snapshot)}: {len(train)} train rows, {len(holdout)} holdout rows, "
          f"{len(numeric)} numeric features" + (f" (left out, not numeric: {', '.join(dropped)})" if dropped else ""))

    def matrix(rows):
        return xgb.DMatrix(rows[numeric].astype(np.float64), label=rows["label"].astype(np.float64),
                           feature_names=numeric, missing=np.nan)

    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": args.max_depth, "eta": args.eta, "eval_metric": "logloss",
         "seed": args.seed},
        matrix(train), num_boost_round=args.rounds)
    scores = booster.predict(matrix(holdout))
    labels = holdout["label"].to_numpy(dtype=np.float64)
    auc = roc_auc_score(labels, scores)
    loss = log_loss(labels, scores, labels=[0, 1])
    print(f"holdout AUC {auc:.6f}, logloss {loss:.6f}")

    os.makedirs(args.out_dir, exist_ok=True)
    model_file = os.path.join(args.out_dir, f"{args.name}-{snapshot_id(args.snapshot)}.json")
    reference_file = os.path.join(args.out_dir, f"{args.name}-{snapshot_id(args.snapshot)}-reference.csv")
    booster.save_model(model_file)
    train[features].to_csv(reference_file, index=False)
    print(f"wrote {model_file} and {reference_file} ({len(train)} rows)")
    if args.no_register:
        return

    command = [args.sluice, "models", "register", "--config", args.config, "--name", args.name, "--file", model_file,
               "--stage", "staging", "--reference", reference_file,
               "--description", f"xgboost {args.rounds} rounds on snapshot {snapshot_id(args.snapshot)}; holdout AUC {auc:.4f}"]
    print("$ " + shlex.join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        sys.exit(f"train.py: sluice models register exited with status {result.returncode}")
    match = re.search(r"^registered (\S+) version (\d+) ", result.stdout, re.MULTILINE)
    if not match:
        sys.exit("train.py: could not read the new version from sluice's output")
    version = match.group(2)
    promote = [args.sluice, "models", "promote", "--config", args.config, args.name, version,
               "--snapshot", snapshot_id(args.snapshot),
               "--require", "auc>=0.7", "--require", "auc>=production-0.005", "--require", "logloss<=production"]
    print()
    print("Promote it only if it does at least as well as production on this snapshot's holdout rows")
    print("(add --allow-first if the model has no production version yet):")
    print("  " + shlex.join(promote))


if __name__ == "__main__":
    main()
