"""The spec language: pydantic models (unknown keys refused) and the bounded YAML loader.

Loading turns YAML into frozen, validated ``Spec`` models with ``file:line:col`` positions for
every error; ``operators.py`` is the table of threshold operators (bound type, predicate,
sentence, pass set) that the Band model, the judge and the band lint all read; ``bands.py``
analyses threshold bands over ``interval.py``'s intervals, ``resources.py`` finds bundled specs
by short name. The bottom floor: imports only ``errors`` and its own libraries; everything
imports it.
"""
