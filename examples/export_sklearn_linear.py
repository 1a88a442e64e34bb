"""Export a fitted scikit-learn linear model to Sluice's linear JSON format.

Format: docs/models-linear.md ("format": "sluice-linear", "version": 1).

Supported estimators:
  * LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor  -> link "identity"
  * LogisticRegression (binary)                               -> link "logistic"
  * LogisticRegression (3+ classes, multinomial)              -> link "softmax"

Usage from Python:
    from export_sklearn_linear import export_linear
    export_linear(model, feature_names, "model.json", missing="zero")
"""
import json
import sys

import numpy as np


def linear_document(model, feature_names, missing="zero"):
    """Return the sluice-linear JSON document (a dict) for a fitted model."""
    if missing not in ("zero", "error"):
        raise ValueError(f"missing must be 'zero' or 'error', got {missing!r}")
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    is_classifier = hasattr(model, "classes_")
    if coef.ndim == 1:
        coef = coef.reshape(1, -1)
    if coef.shape[1] != len(feature_names):
        raise ValueError(f"model has {coef.shape[1]} coefficients but {len(feature_names)} feature names were given")
    doc = {
        "format": "sluice-linear",
        "version": 1,
        "feature_names": [str(n) for n in feature_names],
        "missing": missing,
    }
    if is_classifier and coef.shape[0] > 1:
        doc["link"] = "softmax"
        doc["weights"] = [[float(w) for w in row] for row in coef]
        doc["intercept"] = [float(b) for b in intercept]
        doc["classes"] = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    else:
        doc["link"] = "logistic" if is_classifier else "identity"
        doc["weights"] = [float(w) for w in coef[0]]
        doc["intercept"] = float(intercept[0]) if intercept.size else 0.0
        if is_classifier:
            doc["classes"] = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    return doc


def export_linear(model, feature_names, path, missing="zero"):
    """Write the sluice-linear JSON document for `model` to `path`."""
    with open(path, "w") as f:
        json.dump(linear_document(model, feature_names, missing), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    # Tiny demo: python examples/export_sklearn_linear.py out.json
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    m = LogisticRegression().fit(X, y)
    export_linear(m, ["a", "b", "c"], sys.argv[1] if len(sys.argv) > 1 else "linear.json")
