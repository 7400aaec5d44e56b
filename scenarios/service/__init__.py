"""The service model: what a given staffing delivers (abandonment, ASA, service level),
calibrated to and checked against a centre's own log, and the learned correction on top."""
