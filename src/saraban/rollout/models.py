"""The roll-out programme's data: who runs it, the readiness survey, support, certificates, roadshows, outreach.

The agencies themselves are the directory's organisations (their ``category`` is the programme's
group: MHESI, under the Office of the Prime Minister, LAO, department-level). Everything here is
written through ``services.py`` and audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from saraban.core.labels import Label


class ProgrammeRole(models.TextChoices):
    OFFICE = "office", Label("สำนักงานโครงการ (ป.ย.ป.)", "Programme office")
    PARTNER = "partner", Label("หน่วยงานภาคี", "Partner")


class ProgrammeMember(models.Model):
    """Someone who may open the console: the programme office edits, partners read."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="programme_member")
    role = models.CharField(max_length=10, choices=ProgrammeRole.choices, default=ProgrammeRole.PARTNER)
    added_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.person} ({self.role})"


class Need(models.TextChoices):
    """The kinds of support the seed names (agenda 1.1): certificates, systems, training, infrastructure, budget."""

    CERTIFICATES = "certificates", Label("ใบรับรองอิเล็กทรอนิกส์", "CA certificates")
    SYSTEM = "system", Label("ระบบและเครื่องมือ", "System and tools")
    TRAINING = "training", Label("การฝึกอบรม", "Training")
    INFRASTRUCTURE = "infrastructure", Label("โครงสร้างพื้นฐาน", "Infrastructure")
    BUDGET = "budget", Label("งบประมาณ", "Budget")


class Participant(models.Model):
    """An agency taking part in the programme: surveyed, declared ready, in the pilot or not."""

    organisation = models.OneToOneField("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    ready = models.BooleanField(default=False)
    ready_on = models.DateField(null=True, blank=True)
    pilot = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"participant {self.organisation_id}"


class Survey(models.Model):
    """A readiness questionnaire; the office edits its questions and weights."""

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class AnswerType(models.TextChoices):
    CHOICE = "choice", Label("เลือกหนึ่งข้อ", "One choice")
    MULTI_CHOICE = "multi_choice", Label("เลือกได้หลายข้อ", "Several choices")
    NUMBER = "number", Label("ตัวเลข", "Number")
    YES_NO = "yes_no", Label("ใช่/ไม่ใช่", "Yes or no")
    TEXT = "text", Label("ข้อความ", "Text")


class Question(models.Model):
    """One question. ``options`` is a list of ``{"value", "label_th", "label_en", "weight", "need"}``
    (choice, multi-choice, yes/no: values "yes" and "no"); a number scores ``weight × min(x, scale_max) / scale_max``.
    ``need`` is the need the question signals when the answer earns less than half its points.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=40)
    position = models.PositiveIntegerField(default=0)
    text_th = models.CharField(max_length=500)
    text_en = models.CharField(max_length=500, blank=True)
    answer_type = models.CharField(max_length=20, choices=AnswerType.choices)
    options = models.JSONField(default=list, blank=True)
    weight = models.FloatField(default=0)  # numbers only: the points of a full answer
    scale_max = models.FloatField(null=True, blank=True)  # numbers only: the value that earns full points
    need = models.CharField(max_length=20, choices=Need.choices, blank=True)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["survey", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["survey", "code"], name="rollout_question_code_unique")]

    def __str__(self) -> str:
        return f"{self.code}: {self.text_th}"


class SurveyInvitation(models.Model):
    """The per-agency link to answer a survey without an account: only the token's SHA-256 is kept."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "organisation"], name="rollout_one_invitation")]

    def __str__(self) -> str:
        return f"invitation {self.survey_id} → {self.organisation_id}"


class ResponseSource(models.TextChoices):
    ONLINE = "online", Label("ตอบออนไลน์", "Online")
    IMPORT = "import", Label("นำเข้าจากไฟล์", "Imported")
    OFFICE = "office", Label("บันทึกโดยสำนักงาน", "Entered by the office")


class SurveyResponse(models.Model):
    """An agency's answers to a survey (one per agency; a new submission replaces the answers)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "organisation"], name="rollout_one_response")]

    def __str__(self) -> str:
        return f"response {self.survey_id} ← {self.organisation_id}"


class Answer(models.Model):
    """One answer: a string (choice, text), a number, a boolean (yes/no) or a list of strings (multi-choice)."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="rollout_one_answer")]

    def __str__(self) -> str:
        return f"{self.question_id}={self.value!r}"


class ReadinessLevel(models.TextChoices):
    HIGH = "high", Label("พร้อมมาก", "High")
    MEDIUM = "medium", Label("พร้อมปานกลาง", "Medium")
    LOW = "low", Label("พร้อมน้อย", "Low")


class GroupingRule(models.Model):
    """A readiness level and the lowest score (percent of the maximum) that reaches it; editable."""

    level = models.CharField(max_length=10, choices=ReadinessLevel.choices, unique=True)
    min_percent = models.FloatField()

    class Meta:
        ordering = ["-min_percent"]

    def __str__(self) -> str:
        return f"{self.level} ≥ {self.min_percent}%"


class ProgrammeSettings(models.Model):
    """Settings of the console (a single row): the window within which two outreach activities overlap."""

    overlap_window_days = models.PositiveIntegerField(default=14)

    def __str__(self) -> str:
        return f"overlap window {self.overlap_window_days} days"


class SupportProvider(models.Model):
    """An agency that supports others (DGA, ETDA, NECTEC, Thailand Post, NT, ...) and the needs it covers."""

    code = models.SlugField(max_length=40, unique=True)
    name_th = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    short_name = models.CharField(max_length=40, blank=True)  # e.g. "สพร. (DGA)", for tables
    needs = models.JSONField(default=list)  # list of Need values
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name_th


class RequestStatus(models.TextChoices):
    OPEN = "open", Label("รอจับคู่", "Open")
    ASSIGNED = "assigned", Label("มอบหมายแล้ว", "Assigned")
    IN_PROGRESS = "in_progress", Label("กำลังดำเนินการ", "In progress")
    DONE = "done", Label("เสร็จแล้ว", "Done")
    CANCELLED = "cancelled", Label("ยกเลิก", "Cancelled")


class SupportRequest(models.Model):
    """An agency's need, assigned to a provider, with its status and dates."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    need = models.CharField(max_length=20, choices=Need.choices)
    provider = models.ForeignKey(SupportProvider, null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    requested_on = models.DateField()
    assigned_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.need} ({self.status})"


class BudgetSource(models.TextChoices):
    OWN = "own", Label("งบประมาณของหน่วยงาน", "Own budget")
    DE_FUND = "de_fund", Label("กองทุนพัฒนาดิจิทัลเพื่อเศรษฐกิจและสังคม", "DE Fund")
    OTHER_FUND = "other_fund", Label("กองทุนอื่น", "Other fund")
    NONE = "none", Label("ไม่มีงบประมาณ", "None")


class ReportedCertificate(models.Model):
    """A signing certificate as an agency reported it (survey or office); leased year by year."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    holder = models.CharField(max_length=255)
    provider = models.CharField(max_length=120)  # the CA, e.g. "TDID", "INET CA", "NT CA"
    expires_on = models.DateField()
    yearly_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    budget_source = models.CharField(max_length=12, choices=BudgetSource.choices, default=BudgetSource.NONE)
    reported_on = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["expires_on"])]

    def __str__(self) -> str:
        return f"{self.holder} {self.provider} {self.expires_on}"


class FundStatus(models.TextChoices):
    DRAFTED = "drafted", Label("ร่าง", "Drafted")
    SUBMITTED = "submitted", Label("ยื่นแล้ว", "Submitted")
    APPROVED = "approved", Label("อนุมัติ", "Approved")
    REJECTED = "rejected", Label("ไม่อนุมัติ", "Rejected")


class FundApplication(models.Model):
    """An application to the DE Fund (or another fund) for an agency's certificates or systems."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    fund = models.CharField(max_length=12, choices=BudgetSource.choices, default=BudgetSource.DE_FUND)
    purpose = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=12, choices=FundStatus.choices, default=FundStatus.DRAFTED)
    submitted_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.purpose} {self.amount} ({self.status})"


class ChannelKind(models.TextChoices):
    ASSOCIATION = "association", Label("สมาคม", "Association")
    POST = "post", Label("ไปรษณีย์", "Postal network")
    TELECOM = "telecom", Label("โทรคมนาคม", "Telecom")
    OTHER = "other", Label("อื่น ๆ", "Other")


class Channel(models.Model):
    """A way to reach agencies: the three LAO associations, Thailand Post, NT, ..."""

    name_th = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=12, choices=ChannelKind.choices, default=ChannelKind.ASSOCIATION)
    serves_kinds = models.JSONField(default=list)  # OrganisationKind values; empty: every kind

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name_th


class ChannelMessage(models.Model):
    """A message relayed through a channel, and the agencies it went to."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages")
    subject = models.CharField(max_length=500)
    sent_on = models.DateField()
    organisations = models.ManyToManyField("directory.Organisation", related_name="+")

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.subject}"


class Roadshow(models.Model):
    """A roadshow introducing the e-Document system, starting with pilot provinces."""

    name = models.CharField(max_length=255)
    provinces = models.ManyToManyField("directory.Province", related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()

    def __str__(self) -> str:
        return self.name


class InfrastructureSupport(models.TextChoices):
    NONE = "", Label("—", "None")
    NT = "nt", Label("บมจ. โทรคมนาคมแห่งชาติ (NT)", "National Telecom")
    POST = "post", Label("บริษัท ไปรษณีย์ไทย จำกัด", "Thailand Post")


class RoadshowEvent(models.Model):
    """One event of a roadshow: when, where (or online), with which association and infrastructure help."""

    roadshow = models.ForeignKey(Roadshow, on_delete=models.CASCADE, related_name="events")
    title = models.CharField(max_length=255)
    date = models.DateField()
    province = models.ForeignKey("directory.Province", null=True, blank=True, on_delete=models.PROTECT)
    place = models.CharField(max_length=255, blank=True)
    online = models.BooleanField(default=False)
    partner = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT)
    infrastructure_support = models.CharField(
        max_length=8, choices=InfrastructureSupport.choices, default=InfrastructureSupport.NONE, blank=True
    )

    class Meta:
        ordering = ["date", "pk"]
        constraints = [models.CheckConstraint(condition=Q(online=True) | ~Q(place=""), name="rollout_event_place")]

    def __str__(self) -> str:
        return self.title


class EventInvitation(models.Model):
    """An agency invited to a roadshow event, and whether it came."""

    event = models.ForeignKey(RoadshowEvent, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    attended = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "organisation"], name="rollout_one_event_invitation")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.organisation_id}"


class OutreachActivity(models.Model):
    """A communication activity on the shared calendar (OPDC's, PMDU's, ...), with its target groups.

    Empty ``target_kinds`` means every kind of agency; no provinces and no regions means nationwide.
    """

    owner = models.CharField(max_length=120)  # e.g. "สำนักงาน ก.พ.ร.", "สำนักงาน ป.ย.ป."
    title = models.CharField(max_length=500)
    starts_on = models.DateField()
    ends_on = models.DateField()
    target_kinds = models.JSONField(default=list)  # OrganisationKind values
    regions = models.JSONField(default=list)  # Province.region values
    provinces = models.ManyToManyField("directory.Province", blank=True, related_name="+")
    roadshow = models.ForeignKey(Roadshow, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="rollout_outreach_range"),
        ]

    def __str__(self) -> str:
        return self.title
