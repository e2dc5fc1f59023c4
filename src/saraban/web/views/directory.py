"""Directory admin (ทำเนียบหน่วยงาน): the organisation tree, an organisation's page, its edit form, CSV.

Every signed-in user may read the tree and an organisation's page (letters are addressed with it);
usernames and e-mail addresses of people are shown to administrators only. Editing needs the
org_admin or sys_admin role in the organisation (or one above it); importing CSV needs sys_admin.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from saraban.access.policy import may_see_staff
from saraban.core.errors import ValidationFailed
from saraban.directory.csv_io import export_organisations, export_people, import_organisations, import_people
from saraban.directory.models import ActingAppointment, Organisation, Person, Province, Role, RoleAssignment
from saraban.directory.selectors import current_roles, organisation_tree, unit_ids_under
from saraban.directory.services import update_organisation
from saraban.web.context_processors import today
from saraban.web.i18n import text

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def is_sys_admin(person: Person) -> bool:
    """Whether ``person`` holds the sys_admin role somewhere (a deployment-wide role)."""
    return current_roles(person, today()).filter(role=Role.SYS_ADMIN).exists()


def can_administer(person: Person, organisation: Organisation) -> bool:
    """Whether ``person`` may edit ``organisation``: org_admin there or above it, or sys_admin."""
    admin_of = set(
        current_roles(person, today())
        .filter(role__in=[Role.ORG_ADMIN, Role.SYS_ADMIN])
        .values_list("organisation_id", "role")
    )
    if any(role == Role.SYS_ADMIN for _org, role in admin_of):
        return True
    return organisation.pk in unit_ids_under({org for org, _role in admin_of})


def _forbidden(request: HttpRequest, th: str, en: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {
        "reason": text(request, th, en), "back": "/directory/",
        "back_label": text(request, "กลับไปทำเนียบหน่วยงาน", "Back to the directory"),
    }, status=403)


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


@require_GET
@login_required
def tree(request: HttpRequest) -> HttpResponse:
    """The organisation tree as an indented list, or the organisations matching ``q``."""
    person = _person(request)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        rows = [(0, o) for o in Organisation.objects.filter(
            Q(name_th__icontains=query) | Q(name_en__icontains=query) | Q(letter_code__icontains=query)
            | Q(identifier__icontains=query)
        ).order_by("name_th")[:200]]
    else:
        rows = organisation_tree()
    mine = set(current_roles(person, today()).values_list("organisation_id", flat=True))
    context = {"rows": rows, "query": query, "mine": mine, "sys_admin": is_sys_admin(person)}
    return render(request, "web/directory/tree.html", context)


@require_GET
@login_required
def organisation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """An organisation: its details, units, people and their roles, and acting appointments."""
    person = _person(request)
    org = get_object_or_404(Organisation.objects.select_related("parent", "province"), pk=pk)
    day = today()
    staff_visible = may_see_staff(person, org)
    roles = (
        RoleAssignment.objects.filter(organisation=org).select_related("person")
        .order_by("person__name_th", "role")
    ) if staff_visible else RoleAssignment.objects.none()
    acting = (
        ActingAppointment.objects.filter(organisation=org, ends_on__gte=day)
        .select_related("person", "on_behalf_of").order_by("starts_on")
    ) if staff_visible else ActingAppointment.objects.none()
    context = {
        "org": org,
        "units": org.children.order_by("name_th"),
        "roles": [(r, r.is_current(day)) for r in roles],
        "acting": acting,
        "staff_visible": staff_visible,
        "can_edit": can_administer(person, org),
        "today": day,
    }
    return render(request, "web/directory/organisation.html", context)


class OrganisationForm(forms.Form):
    """The editable fields of an organisation, labelled in the page's language."""

    name_th = forms.CharField(max_length=255)
    name_en = forms.CharField(max_length=255, required=False)
    letter_code = forms.CharField(max_length=32, required=False)
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 50}))
    province = forms.ModelChoiceField(Province.objects.all(), required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=64, required=False)
    thai_digits = forms.BooleanField(required=False)

    LABELS = {
        "name_th": ("ชื่อหน่วยงาน (ภาษาไทย)", "Name (Thai)"),
        "name_en": ("ชื่อภาษาอังกฤษ", "Name (English)"),
        "letter_code": ("รหัสหนังสือ (รหัสพยัญชนะและเลขประจำส่วนราชการ) เช่น นร 0105", "Letter code, e.g. นร 0105"),
        "address": ("ที่อยู่", "Address"),
        "province": ("จังหวัด", "Province"),
        "email": ("อีเมลกลางของหน่วยงาน", "Central e-mail address"),
        "phone": ("โทรศัพท์", "Telephone"),
        "thai_digits": ("ใช้เลขไทยในหนังสือ (๐–๙)", "Print Thai digits on letters (๐–๙)"),
    }

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (th, en) in self.LABELS.items():
            field = self.fields[name]
            field.label = text(request, th, en)
            field.error_messages["required"] = text(request, "ต้องกรอกช่องนี้", "This field is required")
        self.fields["email"].error_messages["invalid"] = text(
            request, "อีเมลไม่ถูกต้อง", "Enter a valid e-mail address"
        )
        province = self.fields["province"]
        assert isinstance(province, forms.ModelChoiceField)
        province.empty_label = text(request, "— ไม่ระบุ —", "— none —")
        self.fields["name_th"].widget.attrs["autofocus"] = True


@login_required
def edit_organisation(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an organisation (org_admin/sys_admin); the change goes through ``update_organisation``."""
    person = _person(request)
    org = get_object_or_404(Organisation, pk=pk)
    if not can_administer(person, org):
        return _forbidden(
            request, "แก้ไขข้อมูลหน่วยงานได้เฉพาะผู้ดูแลหน่วยงานหรือผู้ดูแลระบบ",
            "Only organisation or system administrators may edit an organisation",
        )
    initial = {name: getattr(org, name) for name in OrganisationForm.LABELS}
    if request.method == "POST":
        form = OrganisationForm(request.POST, request=request, initial=initial)
        if form.is_valid():
            try:
                update_organisation(org, actor=person, **form.cleaned_data)
            except ValidationFailed as exc:
                for problem in exc.problems:
                    field = problem.field if problem.field in form.fields else None
                    form.add_error(field, text(request, problem.message_th, problem.message_en))
            except ValidationError as exc:
                form.add_error(None, "; ".join(exc.messages))
            else:
                messages.success(request, text(request, "บันทึกข้อมูลหน่วยงานแล้ว", "The organisation was saved"))
                return HttpResponseRedirect(f"/directory/{org.pk}/")
            org.refresh_from_db()
    else:
        form = OrganisationForm(request=request, initial=initial)
    return render(request, "web/directory/edit.html", {"org": org, "form": form})


@login_required
def import_csv(request: HttpRequest) -> HttpResponse:
    """Import organisations or people from CSV (sys_admin): every row problem is shown, nothing written."""
    person = _person(request)
    if not is_sys_admin(person):
        return _forbidden(
            request, "นำเข้าข้อมูลได้เฉพาะผู้ดูแลระบบ", "Only system administrators may import the directory",
        )
    context: dict[str, Any] = {"what": request.POST.get("what", "organisations")}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if context["what"] not in ("organisations", "people"):
            context["error"] = text(request, "เลือกประเภทข้อมูล", "Choose what to import")
        elif upload is None:
            context["error"] = text(request, "เลือกไฟล์ CSV ที่จะนำเข้า", "Choose a CSV file to import")
        elif upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            context["error"] = text(request, "ไฟล์ใหญ่เกิน 5 MB", "The file is larger than 5 MB")
        else:
            importer = import_organisations if context["what"] == "organisations" else import_people
            report = importer(upload.read(), actor=person)
            if report.ok:
                messages.success(request, text(
                    request, f"นำเข้าแล้ว: เพิ่ม {report.created} รายการ ปรับปรุง {report.updated} รายการ",
                    f"Imported: {report.created} created, {report.updated} updated",
                ))
                return HttpResponseRedirect("/directory/")
            context["problems"] = report.problems
    return render(request, "web/directory/import.html", context)


@require_GET
@login_required
def export_csv(request: HttpRequest, what: str) -> HttpResponse:
    """The directory as CSV: organisations for everyone signed in, people (roles) for sys_admin."""
    if what == "organisations":
        data = export_organisations()
    elif what == "people":
        if not is_sys_admin(_person(request)):
            return _forbidden(
                request, "ส่งออกรายชื่อบุคลากรได้เฉพาะผู้ดูแลระบบ", "Only system administrators may export people"
            )
        data = export_people()
    else:
        raise Http404("no such export")
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{what}.csv"'
    return response
