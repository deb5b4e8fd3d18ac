"""A mapping loaded on first use, for values that authorization may not need (resource tags)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping


class LazyMapping(Mapping[str, str]):
    def __init__(self, load: Callable[[], Mapping[str, str]]) -> None:
        self._load = load
        self._data: Mapping[str, str] | None = None

    def _get(self) -> Mapping[str, str]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())
