"""``saraban rollout``: the programme console from the command line.

    saraban rollout load-demo
    saraban rollout member --user USERNAME --role office|partner
    saraban rollout invite --organisation IDENTIFIER [--days 30] [--survey ID]
    saraban rollout import FILE.csv|FILE.xlsx [--survey ID]

An import checks the whole file first; if any row is wrong every problem is printed (line, column,
Thai and English), nothing is written and the exit code is 2.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.directory.models import Organisation, Person
from saraban.rollout import services
from saraban.rollout.demo import load_rollout_demo
from saraban.rollout.imports import import_answers
from saraban.rollout.models import Survey
from saraban.rollout.selectors import current_survey

BAD_INPUT = 2


def _refuse(th: str, en: str, details: list[str] | None = None) -> CommandError:
    lines = [f"{th} / {en}", *(f"  - {d}" for d in details or [])]
    return CommandError("\n".join(lines), returncode=BAD_INPUT)


class Command(BaseCommand):
    help = "The roll-out programme console: demo data, members, survey links and imports."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load-demo", help="load the programme's demo (once)")
        member = sub.add_parser("member", help="let a user open the console")
        member.add_argument("--user", required=True)
        member.add_argument("--role", choices=["office", "partner"], default="partner")
        invite = sub.add_parser("invite", help="print a per-agency survey link")
        invite.add_argument("--organisation", required=True)
        invite.add_argument("--days", type=int, default=30)
        invite.add_argument("--survey", type=int)
        imp = sub.add_parser("import", help="import survey answers from CSV or XLSX")
        imp.add_argument("file")
        imp.add_argument("--survey", type=int)

    def _survey(self, pk: int | None) -> Survey:
        survey = Survey.objects.filter(pk=pk).first() if pk else current_survey()
        if survey is None:
            raise _refuse("ไม่พบแบบสำรวจ", "No survey found")
        return survey

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load-demo":
            password = os.environ.get("SARABAN_DEMO_PASSWORD", "saraban-demo-2569")
            created = load_rollout_demo(password)
            self.stdout.write("สร้างข้อมูลสาธิตแผนขับเคลื่อนแล้ว / programme demo created" if created
                              else "ข้อมูลสาธิตแผนขับเคลื่อนมีอยู่แล้ว / programme demo present")
            self.stdout.write("  pmdu.office (สำนักงานโครงการ / office), etda.partner (ภาคี / partner)")
        elif action == "member":
            person = Person.objects.filter(username=options["user"]).first()
            if person is None:
                raise _refuse(f"ไม่พบผู้ใช้ “{options['user']}”", f"No user “{options['user']}”")
            services.add_member(person, options["role"])
            self.stdout.write(f"{person.username}: {options['role']}")
        elif action == "invite":
            org = Organisation.objects.filter(identifier=options["organisation"]).first()
            if org is None:
                ident = options["organisation"]
                raise _refuse(f"ไม่พบหน่วยงาน “{ident}”", f"No organisation “{ident}”")
            _, token = services.invite(self._survey(options["survey"]), org, days=options["days"])
            self.stdout.write(f"/programme/survey/{token}/")
        elif action == "import":
            path = Path(options["file"])
            if not path.is_file():
                raise _refuse(f"ไม่พบไฟล์ {path}", f"No file {path}")
            report = import_answers(self._survey(options["survey"]), path.read_bytes(),
                                    fmt="xlsx" if path.suffix.lower() == ".xlsx" else None)
            if not report.ok:
                raise _refuse("นำเข้าไม่สำเร็จ ไม่มีการบันทึกข้อมูลใด ๆ", "Nothing imported",
                              [str(p) for p in report.problems])
            self.stdout.write(f"นำเข้าแล้ว / imported: {report.created} new, {report.updated} replaced")
