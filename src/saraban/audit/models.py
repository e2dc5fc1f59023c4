"""Audit events, one hash chain per organisation (and one for the system, keyed "system").

Each event's hash covers the previous event's hash and the event's own fields, so changing,
removing or reordering any event breaks the chain from that point. A chain's head (its length and
last hash) is kept in ``AuditChain``, so removing events from the end is detected too. One chain
per organisation keeps organisations from queueing behind each other when they write.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditChain(models.Model):
    """The head of one hash chain."""

    key = models.CharField(primary_key=True, max_length=64)  # "org:<id>" or "system"
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.key} ({self.length})"


class AuditEvent(models.Model):
    """One change: who did what to which object, when, with digests of before and after."""

    chain = models.CharField(max_length=64, db_index=True)
    position = models.PositiveBigIntegerField()  # 1, 2, ... within the chain
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)  # kept if the person is renamed
    action = models.CharField(max_length=64)  # e.g. "letter.created", "register.number_issued"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before_digest = models.CharField(max_length=64, blank=True)
    after_digest = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "position"], name="audit_chain_position")]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.chain}#{self.position} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")


class AuditDatabase(models.Model):
    """This database's identity in the anchor file (``audit/anchors.py``): one row, made at the first anchoring.

    The anchor file outside the database may also hold the anchors of another database (a test
    database, one replaced by a restore); each anchor names the database it was taken from.
    """

    key = models.CharField(primary_key=True, max_length=16, default="this")
    uuid = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.uuid
