"""REST API and web UI of pynomaly (``pynomaly serve``); API keys (``pynomaly keys``).

Importing this package is light: FastAPI is imported only by :mod:`pynomaly_server.app`.
"""

from __future__ import annotations

__version__ = "0.1.0"
