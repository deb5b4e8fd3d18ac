"""Tables of compliance (filled in by the compliance work of issue 6)."""

from __future__ import annotations
