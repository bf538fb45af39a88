"""The package version: one definition, imported by the CLI, the engine and the package root."""

__version__ = "0.1.0"
