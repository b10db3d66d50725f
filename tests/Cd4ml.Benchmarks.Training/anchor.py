"""The training benchmark's anchor: scikit-learn's HistGradientBoostingRegressor/Classifier with its defaults.

Usage: python3 anchor.py <dataset.csv> <Regression|BinaryClassification|MulticlassClassification> <label> <validation.txt>
       python3 anchor.py <retail.csv> Retail
validation.txt holds the 0-based data rows cd4ml's split puts in validation. Retail is the synthetic retail set,
filtered and split by date as cd4ml's preset does, with its features (dates as day of week with 0 = Sunday, month,
day of month, year and day of year; strings one-hot; empty booleans as the training mean).
Prints one JSON line: {"rmse" (regression) or "logLoss", "accuracy" (classification), "seconds", "maxRssKb",
"trainRows", "validationRows"}. seconds covers read_csv, featurizing, fit, predict and the errors, not the imports;
maxRssKb is the process's peak resident set (VmHWM), imports included. Not ru_maxrss: Linux carries it over exec, so
a Python started by a large .NET process reports its parent's peak (410 MB instead of 137 MB measured here). random_state fixes the split scikit-learn
carves from the training rows for early stopping (on above 10000 rows), so runs repeat; everything else is default.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import log_loss

start = time.perf_counter()
path, task = sys.argv[1], sys.argv[2]
data = pd.read_csv(path)
if task == "Retail":
    task = "Regression"
    data = data[data["unit_sales"] >= 0]  # the preset's returns filter
    dates = pd.to_datetime(data["date"])
    count = len(data)
    validation_count = int(np.floor(count * 0.2 + 0.5))
    cut = np.sort(dates.values)[count - validation_count]
    is_validation = (dates >= cut).values
    features = pd.DataFrame({
        "date.dayOfWeek": (dates.dt.dayofweek + 1) % 7,
        "date.month": dates.dt.month,
        "date.dayOfMonth": dates.dt.day,
        "date.year": dates.dt.year,
        "date.dayOfYear": dates.dt.dayofyear,
        "store_nbr": data["store_nbr"],
        "item_nbr": data["item_nbr"],
        "onpromotion": data["onpromotion"].map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0}),
        "perishable": data["perishable"],
        "holiday": data["holiday"],
    })
    features = pd.concat([features, pd.get_dummies(data[["family", "city"]], dtype=float)], axis=1)
    features["onpromotion"] = features["onpromotion"].fillna(features.loc[~is_validation, "onpromotion"].mean())
    label = data["unit_sales"].astype(float)
else:
    label_column = sys.argv[3]
    is_validation = np.zeros(len(data), dtype=bool)
    is_validation[np.loadtxt(sys.argv[4], dtype=int, ndmin=1)] = True
    features = data.drop(columns=[label_column])
    label = data[label_column]

train_x, train_y = features[~is_validation], label[~is_validation]
validation_x, validation_y = features[is_validation], label[is_validation].values
result = {}
if task == "Regression":
    model = HistGradientBoostingRegressor(random_state=0).fit(train_x, train_y)
    errors = model.predict(validation_x) - validation_y
    result["rmse"] = float(np.sqrt(np.mean(errors ** 2)))
else:
    model = HistGradientBoostingClassifier(random_state=0).fit(train_x, train_y)
    probabilities = model.predict_proba(validation_x)
    result["logLoss"] = float(log_loss(validation_y, probabilities, labels=model.classes_))
    result["accuracy"] = float(np.mean(model.classes_[probabilities.argmax(axis=1)] == validation_y))
result["seconds"] = time.perf_counter() - start
with open("/proc/self/status") as status:
    result["maxRssKb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
result["trainRows"] = int((~is_validation).sum())
result["validationRows"] = int(is_validation.sum())
print(json.dumps(result))
