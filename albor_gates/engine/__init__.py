"""The engine: plan, run, judge, decide, and the records a run leaves behind.

Binds each gate of a loaded spec to its check kind (every spec error surfaces at plan time),
runs the measurements, judges them with the operator table, applies baselines and waivers,
decides GO / WARN / NO-GO in one pure function (``decide.py``) and builds the neutral record
every renderer reads; evidence bundles, replays and release-over-release deltas live here
too. May import ``checks`` and every floor below; imported only by ``cli`` and ``api``.
Never imports torch, numpy or safetensors (check kinds import them lazily).
"""
