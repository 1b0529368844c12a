"""Values computed once per index state and shared by every thread that searches it.

An index state is a generation and its segments: facet value sets, duplicate groups,
publication days and spelling data depend on nothing else, so they are computed once per state.
Each value is computed by one thread (single flight): threads that need the same value wait for
that thread instead of computing it again side by side (eight threads reading the same columns
at once took 15 times as long each), and threads that need another value, or another state,
are not held up by a lock. `peek` serves optional parts ("did you mean"): the first thread
to ask computes the value, and every other thread gets None until it is ready instead of
waiting (the computing thread uses its own searcher: Whoosh readers are not shared across
threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from whoosh.searching import Searcher

KEEP = 4  # index states kept: the current one and a few that old searchers may still use

StateKey = tuple[object, ...]


def state_key(searcher: Searcher) -> StateKey:
    """The generation and segment ids a searcher sees."""
    reader = searcher.reader()
    leaves = [leaf for leaf, _offset in reader.leaf_readers()]  # [(reader, 0)] when atomic
    segments = tuple(sorted(str(leaf.segment().segment_id()) for leaf in leaves if leaf.segment()))
    return (reader.generation(), segments)


class _Slot:
    """One value of one state: computed by the first thread that asks, awaited by the rest."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class StateCache:
    """name -> value per index state, each computed once (see the module docstring)."""

    def __init__(self) -> None:
        self._states: dict[StateKey, dict[str, _Slot]] = {}
        self._lock = threading.Lock()

    def get(self, searcher: Searcher, name: str, compute: Callable[[Searcher], Any]) -> Any:
        """The value, computed now by this thread or awaited from the one computing it."""
        slot, mine = self._slot(searcher, name)
        if mine:
            self._fill(slot, searcher, name, compute)
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.value

    def peek(self, searcher: Searcher, name: str, compute: Callable[[Searcher], Any]) -> Any:
        """The value, computed now when no other thread is computing it; None while another
        thread is (or when computing it failed)."""
        slot, mine = self._slot(searcher, name)
        if mine:
            self._fill(slot, searcher, name, compute)
        return slot.value if slot.done.is_set() and slot.error is None else None

    def _slot(self, searcher: Searcher, name: str) -> tuple[_Slot, bool]:
        key = state_key(searcher)
        with self._lock:
            values = self._states.get(key)
            if values is None:
                while len(self._states) >= KEEP:
                    self._states.pop(next(iter(self._states)))
                values = self._states[key] = {}
            slot = values.get(name)
            if slot is None:
                slot = values[name] = _Slot()
                return slot, True
            return slot, False

    def _fill(
        self, slot: _Slot, searcher: Searcher, name: str, compute: Callable[[Searcher], Any]
    ) -> None:
        try:
            slot.value = compute(searcher)
        except BaseException as e:  # handed to every waiter; the next state tries afresh
            slot.error = e
            self._forget(slot, name)
        finally:
            slot.done.set()

    def _forget(self, slot: _Slot, name: str) -> None:
        """A failed value is not kept: the next request computes it again (the searcher it ran
        on may have been closed under it by a newer commit)."""
        with self._lock:
            for values in self._states.values():
                if values.get(name) is slot:
                    del values[name]
