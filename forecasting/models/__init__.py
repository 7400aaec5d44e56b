"""Forecasters with one contract (scikit-learn style): parameters in ``__init__``,
``fit(history, calendar)`` returns self, ``predict(timestamps)`` returns a table with the
point forecast and prediction-interval bounds."""
