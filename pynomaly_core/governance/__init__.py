"""Governance: tenants, roles and their policy, the model lifecycle and the hash-chained audit log.

Every module here is pure Python except :mod:`audit`'s table helpers, which import SQLAlchemy on first use (the
``store`` extra); importing this package imports nothing heavy.
"""
