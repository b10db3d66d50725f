"""Writes the public datasets scikit-learn ships inside its package (no download) as CSV files for the benchmark.

Usage: python3 datasets.py <directory>   Prints one JSON line per dataset: {"name", "file", "task", "label", "rows"}.
Column names lose spaces (breast cancer's "mean radius" becomes "mean_radius"); the label column is "target".
"""
import json
import os
import sys

from sklearn import datasets

directory = sys.argv[1]
loaders = [
    ("diabetes", datasets.load_diabetes, "Regression"),
    ("wine", datasets.load_wine, "MulticlassClassification"),
    ("breast_cancer", datasets.load_breast_cancer, "BinaryClassification"),
    ("digits", datasets.load_digits, "MulticlassClassification"),
]
for name, load, task in loaders:
    frame = load(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    path = os.path.join(directory, f"{name}.csv")
    frame.to_csv(path, index=False)
    print(json.dumps({"name": name, "file": path, "task": task, "label": "target", "rows": len(frame)}))
