"""Inventory (PutInventory, GetInventory…): each node's item per inventory type, the item's entries, node counts
per Name, the account's custom types, and DeleteInventory's records.

Why this shape (measured with bench/inventory.py, 5,000 nodes × 500 applications, docs/benchmarks.md): an item row
per (node, type) holds what the content hash and the 30-day expiry need, so an unchanged report costs an indexed
read and an update. Entries are rows of their own (one executemany per item) holding the entry as JSON, so any
attribute of any type can be filtered in SQL (json_extract / ->>), with Name and Version copied into two indexed
key columns: a fleet-wide search by name (Equal or BeginWith) is an index range scan and counts by name and version
an index-only GROUP BY; counts by name alone are kept as items change (services/inventory_counts.py). An
attribute-per-row (EAV) table would have needed 11 rows per application (27.5 M rows for the bench), and one JSON
blob per item could not be searched without reading every node's items.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

# A key column holds the first KEY_LENGTH characters of the attribute; queries recheck the full value in the
# entry when an operand or a stored key reaches that length. On PostgreSQL the keys compare byte-wise (collation
# "C"), so a BeginWith prefix is the range [prefix, next prefix) whatever the database's own collation.
KEY_LENGTH = 200
KeyString = String(KEY_LENGTH).with_variant(String(KEY_LENGTH, collation="C"), "postgresql")

inventory_items = Table(
    "ssm_inventory_items",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("type_name", String(100), primary_key=True),
    Column("schema_version", String(16), nullable=False),
    Column("capture_time", String(20), nullable=False),  # as the node sent it (AWS echoes it)
    Column("content_hash", String(256)),
    Column("context", Text),  # JSON object: AWS:ComplianceItem's Context
    Column("entry_count", Integer, nullable=False),
    # When the node last reported the item (unchanged or not): data not reported for 30 days is expired.
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_ssm_inventory_items_type", "account_id", "region", "type_name", "instance_id", "updated_at"),
    Index("ix_ssm_inventory_items_updated_at", "updated_at"),
)

inventory_entries = Table(
    "ssm_inventory_entries",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("type_name", String(100), primary_key=True),
    Column("ordinal", Integer, primary_key=True),  # the entry's place in the item's Content
    Column("name", KeyString),  # the entry's Name attribute (its first KEY_LENGTH characters), if it has one
    Column("version", KeyString),  # likewise Version
    Column("attributes", Text, nullable=False),  # the entry as a JSON object
    Index("ix_ssm_inventory_entries_name", "account_id", "region", "type_name", "name", "version", "instance_id"),
    sqlite_with_rowid=False,  # the primary key is the table: no second copy of it as an index
)

# Per type and Name, how many nodes hold an entry of that name (services/inventory_counts.py says why).
inventory_name_counts = Table(
    "ssm_inventory_name_counts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("type_name", String(100), primary_key=True),
    Column("name", KeyString, primary_key=True),
    Column("nodes", Integer, nullable=False),
)

# The account's Custom: types, with the attributes their items have used (AWS infers a custom schema from data).
inventory_schemas = Table(
    "ssm_inventory_schemas",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("type_name", String(100), primary_key=True),
    Column("version", String(16), nullable=False),  # the highest SchemaVersion put
    Column("attributes", Text, nullable=False),  # JSON list of names, in the order first seen
    # DeleteInventory's DisableSchema: items of this version or older are ignored from then on.
    Column("disabled_version", String(16)),
    Column("created_at", UtcDateTime(), nullable=False),
)

inventory_deletions = Table(
    "ssm_inventory_deletions",
    metadata,
    Column("deletion_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("type_name", String(100), nullable=False),
    Column("schema_delete_option", String(16)),
    Column("client_token", String(64)),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_message", String(256), nullable=False),
    Column("status_updated_at", UtcDateTime(), nullable=False),
    Column("summary", Text, nullable=False),  # JSON: per schema version, how many items there were
    Index("ix_ssm_inventory_deletions_account", "account_id", "region", "started_at"),
)
