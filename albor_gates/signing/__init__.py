"""Signed verdicts: in-toto statements in Ed25519-signed DSSE envelopes (``gates attest``).

A floor of its own beside the engine: it signs and verifies reports, it never computes one.
Imports only ``errors`` and the artifact digests of ``artifacts.files`` (``cryptography``
lazily); imported only by ``cli``.
"""
