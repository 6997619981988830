"""DataLoaders, created lazily once per request and keyed by what they load.

A loader registry lives on the request context; nothing is cached across requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader


class Loaders:
    def __init__(self) -> None:
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}
        self._memo: dict[Hashable, Any] = {}

    def get(
        self,
        key: Hashable,
        batch: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]],
    ) -> DataLoader[Any, Any]:
        """The loader registered under ``key`` for this request, created on first use.

        ``key`` must identify everything ``batch`` depends on (e.g. a nested connection's filter
        and paging arguments), so that different arguments never share cached results.
        """
        loader = self._loaders.get(key)
        if loader is None:
            loader = DataLoader(load_fn=batch)
            self._loaders[key] = loader
        return loader

    def recall(self, key: Hashable) -> Any:
        """A value remembered for this request under ``key`` (see :meth:`remember`)."""
        return self._memo.get(key)

    def remember(self, key: Hashable, value: Any) -> None:
        self._memo[key] = value

    def clear(self) -> None:
        self._loaders.clear()
        self._memo.clear()
