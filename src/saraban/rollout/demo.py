"""The programme's demo: the situation of the seed's first meeting (1/2565, 6 December 2022).

350 ready LAOs in 59 real provinces and 26 ready agencies (generated, plausible names; letter codes
are plausible, not official), the roadshow piloted in 7 provinces around Bangkok, an OPDC outreach
plan for December 2022 – January 2023 that overlaps the PMDU roadshow, certificates about to lapse
(some with no budget), DE Fund applications and survey answers. Rows are written with bulk_create
for speed and each bulk write is audited as one event.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from saraban.core.labels import pair
from saraban.directory.models import Organisation, OrganisationKind, Person, Province, RoleAssignment
from saraban.directory.services import assign_role, create_person, load_provinces

from . import services
from .models import (
    Answer,
    BudgetSource,
    EventInvitation,
    FundApplication,
    FundStatus,
    Need,
    Participant,
    ProgrammeRole,
    ReportedCertificate,
    RequestStatus,
    ResponseSource,
    SupportProvider,
    SupportRequest,
    Survey,
    SurveyResponse,
)

DEMO_SURVEY_TITLE = "แบบสำรวจความพร้อมการใช้ระบบสารบรรณอิเล็กทรอนิกส์ ปีงบประมาณ 2566"
READY_LAOS = 350
LAO_PROVINCES = 59
READY_AGENCIES = 26
# The seed says "7 provinces around Bangkok" without naming them [M]; these seven (Bangkok's
# neighbours and the next ring) are our reading, and PILOT_PROVINCES is the one place to change them.
PILOT_PROVINCES = ("นนทบุรี", "ปทุมธานี", "สมุทรปราการ", "สมุทรสาคร", "นครปฐม", "พระนครศรีอยุธยา", "ฉะเชิงเทรา")
# The LAOs and agencies of Saraban's own demo directory count among the ready ones when present.
DEMO_LAOS = ("pao-nonthaburi", "nakhon-nonthaburi", "pakkret-city", "sao-tha-it", "sao-khlong-nueng")
DEMO_AGENCIES = ("opm-ops", "mhesi-ops", "dla")

PROVINCE_ABBR = {
    "กรุงเทพมหานคร": "กท", "กระบี่": "กบ", "กาญจนบุรี": "กจ", "กาฬสินธุ์": "กส", "กำแพงเพชร": "กพ", "ขอนแก่น": "ขก",
    "จันทบุรี": "จบ", "ฉะเชิงเทรา": "ฉช", "ชลบุรี": "ชบ", "ชัยนาท": "ชน", "ชัยภูมิ": "ชย", "ชุมพร": "ชพ",
    "เชียงราย": "ชร", "เชียงใหม่": "ชม", "ตรัง": "ตง", "ตราด": "ตร", "ตาก": "ตก", "นครนายก": "นย", "นครปฐม": "นฐ",
    "นครพนม": "นพ", "นครราชสีมา": "นม", "นครศรีธรรมราช": "นศ", "นครสวรรค์": "นว", "นนทบุรี": "นบ", "นราธิวาส": "นธ",
    "น่าน": "นน", "บึงกาฬ": "บก", "บุรีรัมย์": "บร", "ปทุมธานี": "ปท", "ประจวบคีรีขันธ์": "ปข", "ปราจีนบุรี": "ปจ",
    "ปัตตานี": "ปน", "พระนครศรีอยุธยา": "อย", "พะเยา": "พย", "พังงา": "พง", "พัทลุง": "พท", "พิจิตร": "พจ",
    "พิษณุโลก": "พล", "เพชรบุรี": "พบ", "เพชรบูรณ์": "พช", "แพร่": "พร", "ภูเก็ต": "ภก", "มหาสารคาม": "มค",
    "มุกดาหาร": "มห", "แม่ฮ่องสอน": "มส", "ยโสธร": "ยส", "ยะลา": "ยล", "ร้อยเอ็ด": "รอ", "ระนอง": "รน",
    "ระยอง": "รย", "ราชบุรี": "รบ", "ลพบุรี": "ลบ", "ลำปาง": "ลป", "ลำพูน": "ลพ", "เลย": "ลย", "ศรีสะเกษ": "ศก",
    "สกลนคร": "สน", "สงขลา": "สข", "สตูล": "สต", "สมุทรปราการ": "สป", "สมุทรสงคราม": "สส", "สมุทรสาคร": "สค",
    "สระแก้ว": "สก", "สระบุรี": "สบ", "สิงห์บุรี": "สห", "สุโขทัย": "สท", "สุพรรณบุรี": "สพ", "สุราษฎร์ธานี": "สฎ",
    "สุรินทร์": "สร", "หนองคาย": "นค", "หนองบัวลำภู": "นภ", "อ่างทอง": "อท", "อำนาจเจริญ": "อจ", "อุดรธานี": "อด",
    "อุตรดิตถ์": "อต", "อุทัยธานี": "อน", "อุบลราชธานี": "อบ",
}
_HEADS = ("บ้าน", "หนอง", "ท่า", "โนน", "ดอน", "คลอง", "บาง", "นา", "ห้วย", "วัง", "โพธิ์", "สระ", "ทุ่ง", "เขา",
          "ป่า", "ศรี", "บึง", "หัว", "ไร่", "โคก")
_TAILS = ("ใหม่", "แก้ว", "ทอง", "ยาง", "ขาม", "บัว", "สูง", "น้อย", "หลวง", "ใหญ่", "กลาง", "ไผ่", "ตะเคียน",
          "งาม", "เจริญ", "สะอาด", "ม่วง", "ทราย", "จันทร์", "พัฒนา", "สำโรง", "มะปราง", "กระเบื้อง", "ชุมแสง",
          "โพธิ์ทอง", "สามัคคี", "ประดู่", "ตาล", "เกลือ", "ขี้เหล็ก")
# 23 agencies besides those of the demo directory: name, English, category, letter code.
AGENCIES = (
    ("สำนักงานคณะกรรมการกฤษฎีกา", "Office of the Council of State", "opm", "นร 0901"),
    ("สำนักงบประมาณ", "Bureau of the Budget", "opm", "นร 0701"),
    ("สำนักงานคณะกรรมการข้าราชการพลเรือน", "Office of the Civil Service Commission", "opm", "นร 1001"),
    ("สำนักงานคณะกรรมการพัฒนาระบบราชการ", "Office of the Public Sector Development Commission", "opm", "นร 1201"),
    ("สำนักงานสภาพัฒนาการเศรษฐกิจและสังคมแห่งชาติ", "Office of the NESDC", "opm", "นร 1101"),
    ("สำนักเลขาธิการนายกรัฐมนตรี", "Secretariat of the Prime Minister", "opm", "นร 0401"),
    ("กรมประชาสัมพันธ์", "Government Public Relations Department", "opm", "นร 0201"),
    ("สำนักงานคณะกรรมการคุ้มครองผู้บริโภค", "Office of the Consumer Protection Board", "opm", "นร 1301"),
    ("สำนักงานปลัดกระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม", "Office of the Permanent Secretary, MHESI",
     "mhesi", "อว 0201"),
    ("กรมวิทยาศาสตร์บริการ", "Department of Science Service", "mhesi", "อว 0501"),
    ("สำนักงานปรมาณูเพื่อสันติ", "Office of Atoms for Peace", "mhesi", "อว 0601"),
    ("มหาวิทยาลัยราชภัฏพระนครศรีอยุธยา", "Phranakhon Si Ayutthaya Rajabhat University", "mhesi", "อว 0628"),
    ("มหาวิทยาลัยราชภัฏนครปฐม", "Nakhon Pathom Rajabhat University", "mhesi", "อว 0618"),
    ("มหาวิทยาลัยราชภัฏวไลยอลงกรณ์ ในพระบรมราชูปถัมภ์", "Valaya Alongkorn Rajabhat University", "mhesi", "อว 0641"),
    ("มหาวิทยาลัยเทคโนโลยีราชมงคลสุวรรณภูมิ", "Rajamangala University of Technology Suvarnabhumi", "mhesi",
     "อว 0655"),
    ("กรมการปกครอง", "Department of Provincial Administration", "department", "มท 0301"),
    ("กรมที่ดิน", "Department of Lands", "department", "มท 0501"),
    ("กรมการพัฒนาชุมชน", "Community Development Department", "department", "มท 0401"),
    ("กรมการจัดหางาน", "Department of Employment", "department", "รง 0301"),
    ("กรมทรัพยากรน้ำ", "Department of Water Resources", "department", "ทส 0601"),
    ("กรมควบคุมโรค", "Department of Disease Control", "department", "สธ 0401"),
    ("กรมส่งเสริมการเกษตร", "Department of Agricultural Extension", "department", "กษ 1001"),
    ("กรมสรรพากร", "The Revenue Department", "department", "กค 0701"),
    ("กรมบัญชีกลาง", "The Comptroller General's Department", "department", "กค 0401"),
    ("กรมการค้าภายใน", "Department of Internal Trade", "department", "พณ 0401"),
    ("กรมสุขภาพจิต", "Department of Mental Health", "department", "สธ 0801"),
)
CA_PROVIDERS = ("TDID", "INET CA", "NT CA", "Thai Digital ID", "DGA CA")


def readiness_questions() -> list[dict[str, Any]]:
    """The questions of the default readiness survey (issue 5): system, staff, certificates, equipment, ..."""
    def opt(value: str, th: str, en: str, weight: float, need: str = "") -> dict[str, Any]:
        return {"value": value, "label_th": th, "label_en": en, "weight": weight, "need": need}

    return [
        dict(code="system", text_th="ระบบสารบรรณอิเล็กทรอนิกส์ที่ใช้อยู่", text_en="e-Document system in use",
             answer_type="choice", required=True, options=[
                 opt("none", "ยังไม่มี", "None", 0, Need.SYSTEM), opt("dga", "ระบบของ สพร. (DGA)", "DGA's", 10),
                 opt("vendor", "ระบบของผู้ให้บริการเอกชน", "A vendor's", 8), opt("own", "พัฒนาเอง", "Our own", 8)]),
        dict(code="staff", text_th="จำนวนเจ้าหน้าที่งานสารบรรณ (คน)", text_en="Registry staff (people)",
             answer_type="number", weight=5, scale_max=6, need=Need.TRAINING),
        dict(code="certificates", text_th="จำนวนใบรับรองอิเล็กทรอนิกส์ (CA) สำหรับลงลายมือชื่อที่มีอยู่",
             text_en="CA signing certificates held", answer_type="number", weight=15, scale_max=3,
             need=Need.CERTIFICATES),
        dict(code="computers", text_th="ความพร้อมของคอมพิวเตอร์", text_en="Computers", answer_type="choice", options=[
            opt("enough", "เพียงพอ", "Enough", 10), opt("partly", "มีบางส่วน", "Some", 5, Need.INFRASTRUCTURE),
            opt("lacking", "ไม่เพียงพอ", "Not enough", 0, Need.INFRASTRUCTURE)]),
        dict(code="scanner", text_th="มีเครื่องสแกนเอกสาร", text_en="Has a document scanner", answer_type="yes_no",
             options=[opt("yes", "มี", "Yes", 5), opt("no", "ไม่มี", "No", 0, Need.INFRASTRUCTURE)]),
        dict(code="internet", text_th="การเชื่อมต่ออินเทอร์เน็ต", text_en="Connectivity", answer_type="choice", options=[
            opt("fibre", "อินเทอร์เน็ตความเร็วสูง", "Broadband", 10),
            opt("mobile", "เครือข่ายมือถือ", "Mobile only", 5, Need.INFRASTRUCTURE),
            opt("limited", "จำกัด/ไม่เสถียร", "Limited", 0, Need.INFRASTRUCTURE)]),
        dict(code="skills", text_th="ทักษะดิจิทัลของบุคลากร", text_en="Staff digital skills", answer_type="choice",
             options=[opt("trained", "ผ่านการอบรมแล้ว", "Trained", 10),
                      opt("basic", "พื้นฐาน", "Basic", 5, Need.TRAINING),
                      opt("none", "ยังไม่มี", "None", 0, Need.TRAINING)]),
        dict(code="budget", text_th="งบประมาณสำหรับเช่าใบรับรองรายปี", text_en="Budget for the yearly certificate lease",
             answer_type="choice", options=[
                 opt("own", "งบประมาณของหน่วยงาน", "Own budget", 10),
                 opt("fund", "ขอรับจากกองทุน", "From a fund", 5, Need.BUDGET),
                 opt("none", "ไม่มี", "None", 0, Need.BUDGET)]),
        dict(code="pilot", text_th="ยินดีเข้าร่วมโครงการนำร่อง", text_en="Willing to join the pilot",
             answer_type="yes_no", options=[opt("yes", "ยินดี", "Yes", 5), opt("no", "ไม่ยินดี", "No", 0)]),
        dict(code="support", text_th="การสนับสนุนที่ต้องการ", text_en="Support needed", answer_type="multi_choice",
             options=[opt(n.value, *pair(n.label), 0, n.value) for n in Need]),
        dict(code="remarks", text_th="ข้อเสนอแนะ", text_en="Remarks", answer_type="text"),
    ]


def create_readiness_survey(*, title: str = DEMO_SURVEY_TITLE, actor: Person | None = None) -> Survey:
    """A survey with the default readiness questions."""
    survey = services.create_survey(title, description="สำรวจความพร้อมของหน่วยงาน 4 กลุ่ม (อว. สปน. อปท. กรม)",
                                    actor=actor)
    for position, fields in enumerate(readiness_questions(), start=1):
        services.add_question(survey, actor=actor, position=position, **fields)
    return survey


def _answers(rng: random.Random, strength: float) -> dict[str, Any]:
    """Plausible answers for an agency of readiness ``strength`` (0 weak … 1 strong)."""
    def pick(options: list[str]) -> str:
        # the stronger the agency, the likelier the first (best) option
        weights = [strength ** i * (1 - strength) ** (len(options) - 1 - i) + 0.05 for i in range(len(options))][::-1]
        return rng.choices(options, weights=weights)[0]

    certificates = max(0, round(rng.gauss(strength * 3, 0.8)))
    answers: dict[str, Any] = {
        "system": pick(["dga", "vendor", "none"]) if rng.random() > 0.1 else "own",
        "staff": max(1, round(rng.gauss(1 + strength * 5, 1))),
        "certificates": certificates,
        "computers": pick(["enough", "partly", "lacking"]),
        "scanner": "yes" if rng.random() < 0.3 + strength * 0.6 else "no",
        "internet": pick(["fibre", "mobile", "limited"]),
        "skills": pick(["trained", "basic", "none"]),
        "budget": pick(["own", "fund", "none"]),
        "pilot": "yes" if rng.random() < 0.9 else "no",
    }
    wanted = {Need.CERTIFICATES.value} if certificates == 0 or rng.random() < 0.3 else set()
    if answers["skills"] != "trained":
        wanted.add(Need.TRAINING.value)
    if answers["internet"] == "limited" or answers["computers"] == "lacking":
        wanted.add(Need.INFRASTRUCTURE.value)
    if answers["budget"] != "own":
        wanted.add(Need.BUDGET.value)
    if answers["system"] == "none":
        wanted.add(Need.SYSTEM.value)
    answers["support"] = sorted(wanted)
    return answers


def _lao_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(_HEADS) + rng.choice(_TAILS)
        if name not in used:
            used.add(name)
            return name


def _organisations(rng: random.Random) -> tuple[list[Organisation], list[Organisation]]:
    """The ready LAOs and agencies: the demo directory's own, then generated ones up to the seed's numbers."""
    provinces = {p.name_th: p for p in Province.objects.all()}
    laos = list(Organisation.objects.filter(identifier__in=DEMO_LAOS).select_related("province"))
    agencies = list(Organisation.objects.filter(identifier__in=DEMO_AGENCIES))
    pilot = [provinces[n] for n in PILOT_PROVINCES]
    others = sorted((p for n, p in provinces.items() if n not in PILOT_PROVINCES and n != "กรุงเทพมหานคร"),
                    key=lambda p: p.code)
    chosen = pilot + rng.sample(others, LAO_PROVINCES - len(pilot))
    have = {p.code for p in chosen}
    assert all(o.province_id in have for o in laos)
    counts = dict.fromkeys((p.code for p in chosen), 1)
    for o in laos:
        code = str(o.province_id)
        counts[code] = max(0, counts[code] - 1)
    remaining = READY_LAOS - len(laos) - sum(counts.values())
    weights = [5 if p.name_th in PILOT_PROVINCES else 1 for p in chosen]
    for p in rng.choices(chosen, weights=weights, k=remaining):
        counts[p.code] += 1
    new: list[Organisation] = []
    by_code = {p.code: p for p in chosen}
    for code, count in counts.items():
        province = by_code[code]
        abbr = PROVINCE_ABBR[province.name_th]
        used: set[str] = set()
        for i in range(count):
            roll = rng.random()
            if i == 0 and roll < 0.25 and province.name_th != "นนทบุรี":
                kind, name = OrganisationKind.PAO, f"องค์การบริหารส่วนจังหวัด{province.name_th}"
            elif roll < 0.3:
                kind, name = OrganisationKind.MUNICIPALITY, f"เทศบาลตำบล{_lao_name(rng, used)}"
            elif roll < 0.35:
                kind, name = OrganisationKind.MUNICIPALITY, f"เทศบาลเมือง{_lao_name(rng, used)}"
            else:
                kind, name = OrganisationKind.SAO, f"องค์การบริหารส่วนตำบล{_lao_name(rng, used)}"
            series = 5 if kind == OrganisationKind.PAO else 7 if kind == OrganisationKind.SAO else 5
            new.append(Organisation(
                identifier=f"ro-lao-{code}-{i + 1:03d}", kind=kind, name_th=name, province=province, category="lao",
                letter_code=f"{abbr} {series}{int(code):02d}{i + 1:02d}"[:len(abbr) + 6], thai_digits=True,
                address=f"จังหวัด{province.name_th}",
            ))
    bangkok = provinces["กรุงเทพมหานคร"]
    for name_th, name_en, category, code in AGENCIES[: READY_AGENCIES - len(agencies)]:
        new.append(Organisation(
            identifier=f"ro-agency-{len(new):03d}", kind=OrganisationKind.DEPARTMENT, name_th=name_th, name_en=name_en,
            category=category, letter_code=code, province=provinces.get(_agency_province(name_th), bangkok),
        ))
    Organisation.objects.bulk_create(new)
    created = list(Organisation.objects.filter(identifier__startswith="ro-").select_related("province"))
    laos += [o for o in created if o.category == "lao"]
    agencies += [o for o in created if o.category != "lao"]
    return laos, agencies


def _agency_province(name: str) -> str:
    for province in ("พระนครศรีอยุธยา", "นครปฐม", "ปทุมธานี"):
        if province in name:
            return province
    return "ปทุมธานี" if "วไลยอลงกรณ์" in name or "สุวรรณภูมิ" in name else "กรุงเทพมหานคร"


def _people(password: str) -> list[Person]:
    people = []
    pmdu = Organisation.objects.filter(identifier="pmdu").first()
    for username, name_th, name_en, role in (
        ("pmdu.office", "นางสาวกนกวรรณ ขับเคลื่อน", "Kanokwan Khapkhluean", ProgrammeRole.OFFICE),
        ("etda.partner", "นายปิยะพงษ์ ธุรกรรมดี", "Piyapong Thurakamdee", ProgrammeRole.PARTNER),
    ):
        person = Person.objects.filter(username=username).first() or create_person(
            username=username, name_th=name_th, name_en=name_en, password=password,
            email=f"{username}@demo.saraban.invalid",
        )
        if pmdu is not None and role == ProgrammeRole.OFFICE and not RoleAssignment.objects.filter(
                person=person, organisation=pmdu).exists():
            assign_role(person, pmdu, "officer", position_title="นักวิเคราะห์นโยบายและแผนชำนาญการ")
        services.add_member(person, role)
        people.append(person)
    return people


@transaction.atomic
def load_rollout_demo(password: str, *, seed: int = 2565, today: dt.date | None = None) -> bool:
    """Load the programme's demo unless it is there; returns whether it was created."""
    if Survey.objects.filter(title=DEMO_SURVEY_TITLE).exists():
        return False
    if not Province.objects.exists():
        load_provinces()
    day = today or timezone.localdate()
    rng = random.Random(seed)
    services.ensure_defaults()
    _people(password)
    laos, agencies = _organisations(rng)
    pilot_codes = {p.code for p in Province.objects.filter(name_th__in=PILOT_PROVINCES)}
    everyone = laos + agencies
    Participant.objects.bulk_create([
        Participant(organisation=o, ready=True, ready_on=dt.date(2022, 11, rng.randint(1, 30)),
                    pilot=o.category == "lao" and o.province_id in pilot_codes)
        for o in everyone
    ])

    survey = create_readiness_survey()
    questions = {q.code: q for q in survey.questions.all()}
    strength = {o.pk: min(1.0, max(0.0, rng.gauss(0.7 if o.category != "lao" else
                                                  0.55 if o.province_id in pilot_codes else 0.4, 0.2)))
                for o in everyone}
    submitted = timezone.make_aware(dt.datetime(2022, 11, 25, 10, 0))
    responses = SurveyResponse.objects.bulk_create([
        SurveyResponse(survey=survey, organisation=o, source=rng.choice([ResponseSource.ONLINE, ResponseSource.IMPORT]),
                       submitted_at=submitted + dt.timedelta(hours=rng.randint(0, 240)))
        for o in everyone
    ])
    answers_of = {o.pk: _answers(rng, strength[o.pk]) for o in everyone}
    rows = []
    for response in responses:
        for code, value in answers_of[response.organisation_id].items():
            rows.append(Answer(response=response, question=questions[code], value=value))
    Answer.objects.bulk_create(rows, batch_size=2000)

    certificates, funds = _certificates(rng, everyone, answers_of, day)
    requests = _support(rng, everyone, answers_of)
    outreach = _roadshow_and_outreach(rng, laos, pilot_codes)
    services.record_bulk("demo_loaded", actor=None, detail={
        "organisations": len(everyone), "participants": len(everyone), "responses": len(responses),
        "answers": len(rows), "certificates": certificates, "fund_applications": funds,
        "support_requests": requests, **outreach,
    })
    return True


def _certificates(rng: random.Random, orgs: list[Organisation], answers: dict[int, dict[str, Any]],
                  day: dt.date) -> tuple[int, int]:
    certs = []
    funds = []
    source_of = {"own": BudgetSource.OWN, "fund": BudgetSource.DE_FUND, "none": BudgetSource.NONE}
    for o in orgs:
        held = int(answers[o.pk]["certificates"])
        source = source_of[answers[o.pk]["budget"]]
        if source == BudgetSource.DE_FUND and rng.random() < 0.15:
            source = BudgetSource.OTHER_FUND
        for n in range(held):
            # leased yearly: expiries spread over the coming year, a few already due this month
            expires = day + dt.timedelta(days=rng.randint(-5, 380))
            certs.append(ReportedCertificate(
                organisation=o, holder=f"ผู้ลงนามคนที่ {n + 1} ของ{o.name_th}"[:255], provider=rng.choice(CA_PROVIDERS),
                expires_on=expires, yearly_cost=Decimal(rng.choice((500, 800, 1200, 1800, 2500))),
                budget_source=source, reported_on=dt.date(2022, 11, 28),
            ))
        if source == BudgetSource.DE_FUND and held:
            status = rng.choices(list(FundStatus), weights=[25, 35, 25, 15])[0]
            funds.append(FundApplication(
                organisation=o, purpose="ค่าเช่าใบรับรองอิเล็กทรอนิกส์รายปี", amount=Decimal(held * 1800 + 5000),
                status=status,
                submitted_on=dt.date(2023, 1, rng.randint(5, 28)) if status != FundStatus.DRAFTED else None,
                decided_on=dt.date(2023, 3, rng.randint(1, 28)) if status in (FundStatus.APPROVED, FundStatus.REJECTED)
                else None,
            ))
    ReportedCertificate.objects.bulk_create(certs)
    FundApplication.objects.bulk_create(funds)
    return len(certs), len(funds)


def _support(rng: random.Random, orgs: list[Organisation], answers: dict[int, dict[str, Any]]) -> int:
    providers = list(SupportProvider.objects.all())
    rows = []
    for o in rng.sample(orgs, 90):
        for need in answers[o.pk]["support"][:2]:
            covering = [p for p in providers if need in p.needs]
            provider = rng.choice(covering) if covering and rng.random() < 0.7 else None
            status = rng.choice([RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS, RequestStatus.DONE]) \
                if provider else RequestStatus.OPEN
            requested = dt.date(2022, 12, rng.randint(1, 28))
            rows.append(SupportRequest(
                organisation=o, need=need, provider=provider, status=status, requested_on=requested,
                assigned_on=requested + dt.timedelta(days=7) if provider else None,
                closed_on=requested + dt.timedelta(days=45) if status == RequestStatus.DONE else None,
            ))
    SupportRequest.objects.bulk_create(rows)
    return len(rows)


def _roadshow_and_outreach(rng: random.Random, laos: list[Organisation], pilot_codes: set[str]) -> dict[str, int]:
    lao_kinds = [k.value for k in OrganisationKind.lao_kinds()]
    pao = services.add_channel("สมาคมองค์การบริหารส่วนจังหวัดแห่งประเทศไทย",
                               name_en="Provincial Administrative Organisation Association of Thailand",
                               serves_kinds=["pao"])
    league = services.add_channel("สมาคมสันนิบาตเทศบาลแห่งประเทศไทย", name_en="Municipal League of Thailand",
                                  serves_kinds=["municipality"])
    sao = services.add_channel("สมาคมองค์การบริหารส่วนตำบลแห่งประเทศไทย",
                               name_en="Subdistrict Administrative Organisation Association of Thailand",
                               serves_kinds=["sao"])
    services.add_channel("บริษัท ไปรษณีย์ไทย จำกัด", name_en="Thailand Post", kind="post")
    services.add_channel("บริษัท โทรคมนาคมแห่งชาติ จำกัด (มหาชน)", name_en="National Telecom (NT)", kind="telecom")
    for channel in (pao, league, sao):
        reached = [o for o in laos if o.kind in channel.serves_kinds]
        services.send_channel_message(channel, "เชิญเข้าร่วมโรดโชว์ระบบสารบรรณอิเล็กทรอนิกส์ (นำร่อง 7 จังหวัด)",
                                      [o for o in reached if o.province_id in pilot_codes],
                                      sent_on=dt.date(2022, 12, 8))
        services.send_channel_message(channel, "แบบสำรวจความพร้อมการใช้ระบบสารบรรณอิเล็กทรอนิกส์", reached,
                                      sent_on=dt.date(2022, 11, 10))

    provinces = {p.name_th: p for p in Province.objects.filter(name_th__in=PILOT_PROVINCES)}
    roadshow = services.create_roadshow(
        "โรดโชว์ระบบสารบรรณอิเล็กทรอนิกส์ สำหรับ อปท. นำร่อง 7 จังหวัดรอบกรุงเทพมหานคร", provinces.values(),
        dt.date(2022, 12, 14), dt.date(2023, 1, 27),
    )
    plan = (  # province, date, place, partner channel, infrastructure support
        ("นนทบุรี", dt.date(2022, 12, 14), "ศาลากลางจังหวัดนนทบุรี", league, ""),
        ("ปทุมธานี", dt.date(2022, 12, 16), "หอประชุมองค์การบริหารส่วนจังหวัดปทุมธานี", sao, ""),
        ("สมุทรปราการ", dt.date(2022, 12, 21), "ศาลากลางจังหวัดสมุทรปราการ", league, ""),
        ("สมุทรสาคร", dt.date(2023, 1, 11), "", sao, "nt"),
        ("นครปฐม", dt.date(2023, 1, 13), "มหาวิทยาลัยราชภัฏนครปฐม", pao, ""),
        ("พระนครศรีอยุธยา", dt.date(2023, 1, 18), "ศาลากลางจังหวัดพระนครศรีอยุธยา", sao, "post"),
        ("ฉะเชิงเทรา", dt.date(2023, 1, 27), "หอประชุมอำเภอเมืองฉะเชิงเทรา", sao, "post"),
    )
    invited = 0
    for name, date, place, partner, support in plan:
        province = provinces[name]
        event = services.add_event(
            roadshow, title=f"โรดโชว์ e-Document จังหวัด{name}", date=date, province=province, place=place,
            online=not place, partner=partner, infrastructure_support=support,
        )
        guests = [o for o in laos if o.province_id == province.code]
        invited += services.invite_to_event(event, guests)
        services.add_outreach(owner="สำนักงาน ป.ย.ป.", title=event.title, starts_on=date, ends_on=date,
                              target_kinds=lao_kinds, provinces=[province], roadshow=roadshow)
    invitations = list(EventInvitation.objects.filter(event__roadshow=roadshow))
    for invitation in invitations:
        invitation.attended = rng.random() < 0.75
    EventInvitation.objects.bulk_update(invitations, ["attended"])

    opdc = "สำนักงาน ก.พ.ร."
    law = "สร้างการรับรู้ พ.ร.บ. การอำนวยความสะดวกฯ และ พ.ร.บ. การบริหารงานและการให้บริการภาครัฐผ่านระบบดิจิทัล"
    for region_th, regions, start, end in (
        ("ภาคกลาง", ["Central"], dt.date(2022, 12, 5), dt.date(2022, 12, 16)),
        ("ภาคเหนือ", ["North"], dt.date(2022, 12, 19), dt.date(2022, 12, 23)),
        ("ภาคตะวันออกเฉียงเหนือ", ["Northeast"], dt.date(2023, 1, 9), dt.date(2023, 1, 13)),
        ("ภาคตะวันออก", ["East"], dt.date(2023, 1, 16), dt.date(2023, 1, 20)),
        ("ภาคใต้", ["South"], dt.date(2023, 1, 23), dt.date(2023, 1, 31)),
    ):
        services.add_outreach(owner=opdc, title=f"{law} ({region_th})", starts_on=start, ends_on=end,
                              target_kinds=[], regions=regions)
    services.add_outreach(owner="สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.)", title="อบรมการใช้ระบบ e-Document สำหรับส่วนราชการระดับกรม",
                          starts_on=dt.date(2023, 3, 6), ends_on=dt.date(2023, 3, 10),
                          target_kinds=["department"], regions=[])
    services.add_outreach(owner="สำนักงานพัฒนาธุรกรรมทางอิเล็กทรอนิกส์ (สพธอ.)",
                          title="สัมมนาใบรับรองอิเล็กทรอนิกส์สำหรับมหาวิทยาลัย", starts_on=dt.date(2023, 1, 10),
                          ends_on=dt.date(2023, 1, 10), target_kinds=["state_body"], regions=["Central"])
    return {"event_invitations": invited}
