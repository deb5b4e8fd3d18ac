"""Amazon's documents for Inventory (AWS-GatherSoftwareInventory):
name -> (content, platform types, when AWS published it)."""

from __future__ import annotations

import datetime as dt

DOCUMENTS: dict[str, tuple[str, tuple[str, ...], dt.datetime]] = {}
