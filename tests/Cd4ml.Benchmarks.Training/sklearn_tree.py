"""scikit-learn's DecisionTreeRegressor on the retail CSV, featurized and split as cd4ml's trainer does.

Usage: python3 sklearn_tree.py <dataset.csv>   Prints one JSON line: {"rmse", "mae", "seconds", "trainRows", "validationRows"}.
The time covers reading the CSV, featurizing, fitting and predicting, like the trainer's wall time.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

start = time.perf_counter()
data = pd.read_csv(sys.argv[1])
data = data[data["unit_sales"] >= 0]  # the preset's returns filter

# The trainer's time split: the latest dates validate; the cut is the date of the row at the 20% share.
dates = pd.to_datetime(data["date"])
count = len(data)
validation_count = int(np.floor(count * 0.2 + 0.5))
cut = np.sort(dates.values)[count - validation_count]
is_validation = (dates >= cut).values

# The trainer's features: dates as day of week (0 = Sunday), month and day; strings one-hot; booleans as 0/1
# with empty values replaced by the training mean.
features = pd.DataFrame({
    "date.dayOfWeek": (dates.dt.dayofweek + 1) % 7,
    "date.month": dates.dt.month,
    "date.dayOfMonth": dates.dt.day,
    "store_nbr": data["store_nbr"],
    "item_nbr": data["item_nbr"],
    "onpromotion": data["onpromotion"].map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0}),
    "perishable": data["perishable"],
    "holiday": data["holiday"],
})
features = pd.concat([features, pd.get_dummies(data[["family", "city"]], dtype=float)], axis=1)
features["onpromotion"] = features["onpromotion"].fillna(features.loc[~is_validation, "onpromotion"].mean())
label = data["unit_sales"].astype(float)

model = DecisionTreeRegressor(random_state=42)
model.fit(features[~is_validation], label[~is_validation])
predicted = model.predict(features[is_validation])
errors = predicted - label[is_validation].values
seconds = time.perf_counter() - start
print(json.dumps({
    "rmse": float(np.sqrt(np.mean(errors ** 2))),
    "mae": float(np.mean(np.abs(errors))),
    "seconds": seconds,
    "trainRows": int((~is_validation).sum()),
    "validationRows": int(is_validation.sum()),
}))
