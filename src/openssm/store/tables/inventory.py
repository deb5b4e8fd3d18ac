"""Tables of inventory (filled in by the inventory work of issue 6)."""

from __future__ import annotations
