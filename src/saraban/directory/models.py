"""Organisations form a tree; people hold roles in them, and may act for others (รักษาราชการแทน)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from saraban.core.labels import Label


class Province(models.Model):
    """One of Thailand's 77 provinces (code from the Department of Provincial Administration)."""

    code = models.CharField(primary_key=True, max_length=2)
    name_th = models.CharField(max_length=100, unique=True)
    name_en = models.CharField(max_length=100)
    region = models.CharField(max_length=20)

    class Meta:
        ordering = ["name_th"]

    def __str__(self) -> str:
        return self.name_th


class OrganisationKind(models.TextChoices):
    MINISTRY = "ministry", Label("กระทรวง", "Ministry")
    DEPARTMENT = "department", Label("กรมหรือเทียบเท่า", "Department")
    DIVISION = "division", Label("กอง สำนัก หรือหน่วยงานภายใน", "Division or unit")
    PROVINCIAL_OFFICE = "provincial_office", Label("ราชการส่วนภูมิภาค (จังหวัด)", "Provincial office")
    DISTRICT_OFFICE = "district_office", Label("อำเภอ", "District office")
    PAO = "pao", Label("องค์การบริหารส่วนจังหวัด (อบจ.)", "Provincial administrative organisation")
    MUNICIPALITY = "municipality", Label("เทศบาล", "Municipality")
    SAO = "sao", Label("องค์การบริหารส่วนตำบล (อบต.)", "Subdistrict administrative organisation")
    SPECIAL_LAO = "special_lao", Label("องค์กรปกครองส่วนท้องถิ่นรูปแบบพิเศษ", "Special local administration")
    STATE_BODY = "state_body", Label("หน่วยงานของรัฐอื่น", "Other state body")

    @classmethod
    def lao_kinds(cls) -> tuple[OrganisationKind, ...]:
        """The kinds of local administrative organisation (อปท.)."""
        return (cls.PAO, cls.MUNICIPALITY, cls.SAO, cls.SPECIAL_LAO)


class ProgrammeCategory(models.TextChoices):
    """The groups the e-Document roll-out programme reports on (seed document, agenda 1)."""

    MHESI = "mhesi", Label("หน่วยงานในสังกัด อว.", "MHESI agency")
    OPM = "opm", Label("หน่วยงานในสังกัดสำนักนายกรัฐมนตรี", "Under the Office of the Prime Minister")
    LAO = "lao", Label("องค์กรปกครองส่วนท้องถิ่น", "LAO")
    DEPARTMENT = "department", Label("ส่วนราชการระดับกรม", "Department-level agency")
    OTHER = "other", Label("อื่น ๆ", "Other")


class Organisation(models.Model):
    """An organisation of the directory: ministry, department, unit, provincial office, LAO..."""

    identifier = models.SlugField(max_length=64, unique=True)  # stable key for import/export
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    name_th = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    # รหัสพยัญชนะและเลขประจำส่วนราชการ (ภาคผนวก ๑), e.g. "นร 0105".
    letter_code = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True)
    province = models.ForeignKey(Province, null=True, blank=True, on_delete=models.PROTECT)
    email = models.EmailField(blank=True)  # central e-mail address (2021 amendment, ข้อ 89/1)
    phone = models.CharField(max_length=64, blank=True)
    category = models.CharField(max_length=20, choices=ProgrammeCategory.choices, default=ProgrammeCategory.OTHER)
    # Print numbers on letters with Thai digits (๐–๙) rather than Arabic ones.
    thai_digits = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    # The exchange id of the Saraban deployment that hosts it ("" = this one). A remote organisation
    # is a recipient only: it has no people, books or letters here (``exchange.RemoteOrganisation``).
    home_deployment = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_th"]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["letter_code"]),
                   models.Index(fields=["home_deployment", "name_th"])]

    def __str__(self) -> str:
        return self.name_th

    @property
    def is_remote(self) -> bool:
        """Hosted by another Saraban deployment (reached through the exchange)."""
        return bool(self.home_deployment)

    @property
    def is_lao(self) -> bool:
        return self.kind in OrganisationKind.lao_kinds()


class Person(AbstractUser):
    """Someone who signs in: an official of one or more organisations."""

    # Full name as printed on letters, with the title: "นางสาวสมหญิง ใจงาม".
    name_th = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "บุคลากร / person"
        ordering = ["name_th"]

    def __str__(self) -> str:
        return self.name_th or self.username

    @property
    def display_name(self) -> str:
        return self.name_th or self.get_username()


class Role(models.TextChoices):
    CENTRAL_CLERK = "central_clerk", Label("สารบรรณกลาง", "Central registry clerk")
    UNIT_CLERK = "unit_clerk", Label("สารบรรณหน่วยงาน", "Unit registry clerk")
    OFFICER = "officer", Label("เจ้าของเรื่อง", "Officer")
    REVIEWER = "reviewer", Label("ผู้ตรวจสอบ", "Reviewer")
    SIGNER = "signer", Label("ผู้ลงนาม", "Signer")
    ORG_ADMIN = "org_admin", Label("ผู้ดูแลหน่วยงาน", "Organisation administrator")
    SYS_ADMIN = "sys_admin", Label("ผู้ดูแลระบบ", "System administrator")


class RoleAssignment(models.Model):
    """A role a person holds in an organisation or unit, with the position printed on letters."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    position_title = models.CharField(max_length=255, blank=True)  # ตำแหน่ง
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation", "role"], name="one_role_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} @ {self.organisation}"

    def is_current(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on <= self.valid_until
        )


class ActingKind(models.TextChoices):
    ACTING = "acting", "รักษาราชการแทน"  # the post is vacant or its holder cannot act
    ON_BEHALF = "on_behalf", "ปฏิบัติราชการแทน"  # by delegation of powers
    ACTING_IN_POSITION = "acting_in_position", "รักษาการในตำแหน่ง"


class ActingAppointment(models.Model):
    """An acting appointment (รักษาราชการแทน) for a date range: ``person`` acts in ``position_title``."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="acting_appointments")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="acting_appointments")
    position_title = models.CharField(max_length=255)  # the post acted in: "ปลัดสำนักนายกรัฐมนตรี"
    on_behalf_of = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=ActingKind.choices, default=ActingKind.ACTING)
    starts_on = models.DateField()
    ends_on = models.DateField()
    order_reference = models.CharField(max_length=255, blank=True)  # the order that appoints, e.g. คำสั่ง ที่ 12/2569

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="acting_range_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()}{self.position_title} {self.starts_on}–{self.ends_on}"

    @property
    def signature_line(self) -> str:
        """The line printed under the signer's own position, e.g. "รักษาราชการแทนปลัดสำนักนายกรัฐมนตรี"."""
        return f"{self.get_kind_display()}{self.position_title}"
