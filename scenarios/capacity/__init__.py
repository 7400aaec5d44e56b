"""Long-term capacity: how many agents to hire, and when, week by week up to 18 months ahead.

Four stages, each its own module, all pure (numpy/scipy, no files, no MLflow):

- :mod:`~scenarios.capacity.workforce`: the supply model. The team as tenure cohorts, attrition
  by tenure band, hiring classes that train, then ramp up; productive and paid FTE by week.
- :mod:`~scenarios.capacity.requirement`: the FTE each week needs, from interval volumes
  through the staffing model (peaks drive agents, not weekly averages), shrinkage by month.
- :mod:`~scenarios.capacity.optimizer`: the least-cost hiring plan (classes, overtime,
  outsourcing) that covers the requirement every week, an integer program (HiGHS via
  ``scipy.optimize.milp``); the weeks it cannot cover are said in words, with why.
- :mod:`~scenarios.capacity.risk`: attrition is random: a Monte Carlo of the plan gives the
  chance each week is covered; a sensitivity table gives the hires other assumptions need.

The scenario stages load the inputs and track the results (:mod:`scenarios.capacity.plan`).
"""
