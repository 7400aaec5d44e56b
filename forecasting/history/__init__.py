"""History in: reading contact logs and interval reports, validating them row by row (every
rejected row reported with its reason), the tidy interval table, and the KPI report against
targets. Nothing here forecasts; the models read what this package produces."""
