"""Shared fixtures for the albor-gates test suite."""

from __future__ import annotations
