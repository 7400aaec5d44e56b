"""Shift schedules from interval requirements (pure: numpy/scipy, no I/O).

:mod:`~scenarios.scheduling.shifts` turns shift templates (length, start window, breaks, days
a week) into the shifts they allow, as coverage of a week's intervals;
:mod:`~scenarios.scheduling.scheduler` chooses how many agents work each shift and days-off
pattern: the least cost covering the requirement (set covering, HiGHS via ``scipy.optimize.milp``).
"""
