"""Entities described by metadata (definitions/<pack>/entities/<name>.json): their tables, schema
sync, scoped reads, display and the bulk upsert of the sync API. See README, "基础信息"."""
