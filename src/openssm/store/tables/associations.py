"""Tables of associations (filled in by the associations work of issue 6)."""

from __future__ import annotations
