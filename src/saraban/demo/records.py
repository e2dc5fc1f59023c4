"""Records in the demo: a file plan, old paper letters from the back files, cases, a hold and a list.

The สำนักงานปลัดสำนักนายกรัฐมนตรี registry scanned part of its back files: paper letters of พ.ศ.
2545–2562, registered now with their own dates. Filed in its file plan, some are due for destruction in
the list of 2568, one is held for an audit, and those of 2545–2548 have reached 20 years and are due
for transfer to the National Archives.
"""

from __future__ import annotations

import datetime as dt

from saraban.directory.models import Organisation, RoleAssignment
from saraban.inbox import services as inbox
from saraban.records import destruction
from saraban.records import services as records
from saraban.records.models import Case, FilePlanEntry, HoldReason

FILE_PLAN = """code,title,parent,retention,years,legal_basis
01,การบริหารทั่วไป,,10y,,
01.01,การประชุมคณะกรรมการและคณะทำงาน,01,10y,,
01.02,หนังสือเวียนและประชาสัมพันธ์ทั่วไป,01,1y,,
01.03,สำเนาหนังสือที่มีต้นเรื่องอยู่ที่อื่น,01,5y,,
02,การเงินและพัสดุ,,law,10,ระเบียบกระทรวงการคลังว่าด้วยการเบิกจ่ายเงินจากคลัง การเก็บรักษาเงินและการนำเงินส่งคลัง
03,นโยบายและแผน,,permanent,,
03.01,ยุทธศาสตร์และแผนปฏิบัติราชการ,03,permanent,,
"""
# (พ.ศ. of the letter, file code, sender, subject)
BACK_FILES = [
    (2545, "03.01", "สร 0001/245", "สำนักงานคณะกรรมการพัฒนาระบบราชการ", "แผนยุทธศาสตร์การพัฒนาระบบราชการไทย พ.ศ. 2546–2550"),
    (2547, "03.01", "นร 0702/1187", "สำนักงบประมาณ", "การจัดทำแผนปฏิบัติราชการสี่ปี"),
    (2548, "01.01", "มท 0212/3345", "กระทรวงมหาดไทย", "รายงานการประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ"),
    (2555, "01.02", "มท 0810.2/ว 456", "กรมส่งเสริมการปกครองท้องถิ่น", "ประชาสัมพันธ์การจัดงานวันท้องถิ่นไทย"),
    (2556, "01.03", "นบ 0017/2280", "สำนักงานจังหวัดนนทบุรี", "สำเนาคำสั่งแต่งตั้งคณะทำงานด้านสารบรรณ"),
    (2558, "01.01", "นร 1008/612", "สำนักงาน ก.พ.", "การประชุมคณะอนุกรรมการพัฒนาระบบบริหารทรัพยากรบุคคล"),
    (2558, "02", "กค 0402.2/ว 88", "กรมบัญชีกลาง", "การเบิกจ่ายเงินงบประมาณรายจ่ายประจำปี พ.ศ. 2558"),
    (2560, "01.02", "กค 0406/ว 117", "สำนักงานปลัดกระทรวงการคลัง", "ประชาสัมพันธ์โครงการอบรมการใช้ระบบ e-GP"),
    (2562, "01.01", "พร 0201/339", "สำนักงานพัฒนารัฐบาลดิจิทัล", "การประชุมเตรียมความพร้อมระบบสารบรรณอิเล็กทรอนิกส์"),]


def load_records_demo(scan: bytes) -> None:
    """File plan, old letters from ``scan`` (one image for all: one file, read once), cases, a hold, a list."""
    org = Organisation.objects.get(identifier="opm-ops")
    clerk = RoleAssignment.objects.filter(organisation=org, role="central_clerk").select_related("person").first()
    head = RoleAssignment.objects.filter(organisation=org, role="signer").select_related("person").first()
    if clerk is None or head is None:
        return
    records.import_file_plan(org, FILE_PLAN, actor=clerk.person)
    files = {f.code: f for f in FilePlanEntry.objects.filter(organisation=org)}
    cases: dict[str, Case] = {}
    held = None
    for year, code, number, sender, subject in BACK_FILES:
        incoming = inbox.register_paper(org, inbox.PaperLetter(
            sender_name=sender, letter_number=number, letter_date=dt.date(year - 543, 6, 15), subject=subject,
        ), scans=[(scan, "image/png")], actor=clerk.person)
        case = cases.get(code) or records.open_case(files[code], files[code].title, actor=clerk.person)
        cases[code] = case
        record = records.file_letter("in", incoming.pk, case, actor=clerk.person)
        if year == 2558 and code == "01.01":
            held = record
    if held is not None:
        records.place_hold(held, HoldReason.AUDIT, "สำนักงานการตรวจเงินแผ่นดินขอตรวจสอบ ตามหนังสือที่ ตผ 0012/45",
                           actor=clerk.person)
    destruction.draw_up(org, 2568, actor=clerk.person)  # drafted: appointing the committee is the head's step
