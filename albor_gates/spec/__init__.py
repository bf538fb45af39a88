"""The spec language: pydantic models (unknown keys refused) and the bounded YAML loader.

Loading turns YAML into frozen, validated ``Spec`` models with ``file:line:col`` positions for
every error; ``bands.py`` analyses threshold bands, ``resources.py`` finds bundled specs by short
name. The bottom floor: imports only ``errors`` and its own libraries; everything imports it.
"""
