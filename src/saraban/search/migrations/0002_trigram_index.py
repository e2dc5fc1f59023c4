"""The trigram index over ``SearchEntry.text``: FTS5 ``trigram`` on SQLite, ``pg_trgm`` GIN on PostgreSQL;
and the first variant spellings (editable afterwards)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_searchentry_fts USING fts5("
    "text, content='search_searchentry', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchentry BEGIN "
    "INSERT INTO search_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchentry BEGIN "
    "INSERT INTO search_searchentry_fts(search_searchentry_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE OF text ON search_searchentry BEGIN "
    "INSERT INTO search_searchentry_fts(search_searchentry_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO search_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_fts_update", "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert", "DROP TABLE IF EXISTS search_searchentry_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX search_searchentry_text_trgm ON search_searchentry USING gin (text gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_searchentry_text_trgm"]

# Spellings met in letters, each group found whichever is typed (อิเล็กทรอนิกส์ is the Royal Institute's).
VARIANTS = {
    "อิเล็กทรอนิกส์": ["อิเลคทรอนิกส์", "อิเล็คทรอนิกส์", "อีเล็กทรอนิกส์"],
    "อินเทอร์เน็ต": ["อินเตอร์เน็ต", "อินเตอร์เน็ท"],
    "เว็บไซต์": ["เว็บไซท์", "เวปไซต์", "เว็ปไซต์"],
    "อีเมล": ["อีเมล์", "อี-เมล"],
    "ดิจิทัล": ["ดิจิตอล", "ดิจิตัล"],
    "ซอฟต์แวร์": ["ซอฟท์แวร์", "ซอฟแวร์"],
    "แอปพลิเคชัน": ["แอพพลิเคชั่น", "แอปพลิเคชั่น", "แอพพลิเคชัน"],
    "คอมพิวเตอร์": ["คอมพิวเตอร"],
    "ออนไลน์": ["ออนไลน"],
    "กราฟิก": ["กราฟฟิก", "กราฟฟิค"],
    "คลินิก": ["คลีนิก", "คลินิค", "คลีนิค"],
    "เทคโนโลยี": ["เทคโนโลยี่"],
}


def create_index(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(sql)
    variant = apps.get_model("search", "SpellingVariant")
    for group, others in VARIANTS.items():
        for spelling in [group, *others]:
            variant.objects.get_or_create(spelling=spelling, defaults={"group": group})


def drop_index(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
