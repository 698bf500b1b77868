"""Fast JSON responses (orjson, NumPy arrays serialised natively) and a thread-pool helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run blocking work (fitting, loading from disk, the database) off the event loop."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args)
