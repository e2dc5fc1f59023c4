"""One search over the letters a person may open: Thai-aware matching, tenancy and secrecy, the index kept up."""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from saraban.access.services import grant_secrecy
from saraban.correspondence.models import Letter
from saraban.correspondence.services import update_letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.documents.services import store_file
from saraban.search.engine import Filters, matching_ids, search
from saraban.search.indexing import index_object, reindex
from saraban.search.models import SearchEntry, SpellingVariant
from saraban.search.normalize import fold
from saraban.search.query import parse
from tests.web.test_workflow_pages import content, draft

pytestmark = pytest.mark.django_db


def _letter(agency: Organisation, clerk: Person, **changes: Any) -> Letter:
    letter = draft(agency, clerk, **changes)
    index_object("out", letter.pk)
    return letter


def _found(person: Person, text: str, **filters: Any) -> list[int]:
    return [h.entry.object_id for h in search(person, text, filters=Filters(**filters)).hits]


def test_the_clerks_searches_of_the_issue(agency: Organisation, clerk: Person) -> None:
    letter = _letter(agency, clerk, subject="การพัฒนาระบบสารบรรณ อิเล็กทรอนิกส์ ระยะที่ 2")
    Letter.objects.filter(pk=letter.pk).update(number="นร 0105.04/1")
    index_object("out", letter.pk)
    other = _letter(agency, clerk, subject="ขอเชิญประชุมคณะทำงาน", body=["เรื่องอื่นโดยสิ้นเชิง"])
    for typed in ("๐๑๐๕.๐๔/๑", "นร0105.04/1", "นร 0105.04/1", "0105.04 / 1", "สารบรรณ อิเล็กทรอนิกส์",
                  "อิเลคทรอนิกส์", "ทรอนิกส์", '"ระบบสารบรรณ"', "ระยะที่ ๒"):
        assert _found(clerk, typed) == [letter.pk], typed
    assert _found(clerk, "สารบรรณ คณะทำงาน") == []  # both words, in no one letter
    assert _found(clerk, "คณะทำงาน") == [other.pk]
    assert _found(clerk, '"ประชุมอิเล็กทรอนิกส์"') == []


def test_the_passage_shows_the_hit_as_written(agency: Organisation, clerk: Person) -> None:
    _letter(agency, clerk, subject="รายงานผล", body=["ขอรายงานความก้าวหน้าของโครงการ นร ๐๑๐๕ ตามที่ได้รับมอบหมาย"])
    (hit,) = search(clerk, "นร0105").hits
    assert hit.passage is not None and hit.passage.hit == "นร ๐๑๐๕"
    assert "ก้าวหน้า" in hit.passage.before and "มอบหมาย" in hit.passage.after


def test_another_organisation_and_secrecy(agency: Organisation, clerk: Person, ministry: Organisation) -> None:
    elsewhere = create_organisation(identifier="elsewhere", kind="department", name_th="กรมอื่น", letter_code="มท 0810",
                                    address="ถนนนครราชสีมา กรุงเทพมหานคร 10300", phone="0 2241 9000")
    stranger = create_person(username="stranger", name_th="นายคนนอก ไม่เกี่ยว", password="x-Pass-1234")
    assign_role(stranger, elsewhere, "central_clerk")
    theirs = _letter(elsewhere, stranger, subject="งบประมาณลับเฉพาะกรมอื่น")
    secret = _letter(agency, clerk, subject="งบประมาณลับของสำนักงาน", secrecy="confidential")
    plain = _letter(agency, clerk, subject="งบประมาณทั่วไปของสำนักงาน")
    colleague = create_person(username="colleague", name_th="นางสาวร่วมงาน ดี", password="x-Pass-1234")
    assign_role(colleague, agency, "central_clerk")
    assert _found(colleague, "งบประมาณ") == [plain.pk]  # not the ลับ letter without a grant, never theirs
    assert _found(stranger, "งบประมาณ") == [theirs.pk]
    grant_secrecy(colleague, agency, "confidential", actor=None)
    assert set(_found(colleague, "งบประมาณ")) == {plain.pk, secret.pk}
    entries = SearchEntry.objects.filter(pk__in=matching_ids(parse("งบประมาณลับของ")))
    assert secret.pk in {e.object_id for e in entries}  # in the index: the access rules kept it out


def test_filters(agency: Organisation, clerk: Person) -> None:
    urgent = _letter(agency, clerk, subject="ขอข้อมูลด่วนที่สุด", urgency="most_urgent", owner_unit="กองคลัง")
    normal = _letter(agency, clerk, subject="ขอข้อมูลทั่วไป", owner_unit="กองกลาง")
    assert _found(clerk, "ขอข้อมูล", urgency="most_urgent") == [urgent.pk]
    assert _found(clerk, "ขอข้อมูล", unit="กองกลาง") == [normal.pk]
    assert _found(clerk, "ขอข้อมูล", kind="in") == []
    assert set(_found(clerk, "ขอข้อมูล", status="draft")) == {urgent.pk, normal.pk}


def test_enclosure_texts_are_searched(agency: Organisation, clerk: Person) -> None:
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", (
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            "<w:p><w:r><w:t>รายชื่อผู้เข้าร่วมโครงการ</w:t></w:r><w:r><w:t>นำร่องจังหวัดชลบุรี</w:t></w:r></w:p>"
            "</w:body></w:document>"))
    stored = store_file(docx.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    letter = _letter(agency, clerk, subject="ส่งรายชื่อ", enclosures=[
        {"title": "รายชื่อ", "sha256": stored.sha256, "filename": "รายชื่อ.docx"}])
    assert _found(clerk, "นำร่องจังหวัดชลบุรี") == [letter.pk]
    assert _found(clerk, "ชลบุรี", has_attachment=True) == [letter.pk]


def test_pages_of_twenty_and_no_count(agency: Organisation, clerk: Person) -> None:
    letters = [_letter(agency, clerk, subject=f"คำสั่งแต่งตั้งคณะกรรมการชุดที่ {i}") for i in range(45)]
    first = search(clerk, "คำสั่งแต่งตั้ง")
    assert len(first.hits) == 20 and first.has_more
    assert [h.entry.object_id for h in first.hits] == [letter.pk for letter in letters[::-1][:20]]  # newest first
    third = search(clerk, "คำสั่งแต่งตั้ง", page=3)
    assert len(third.hits) == 5 and not third.has_more


def test_relevance_puts_subject_hits_first(agency: Organisation, clerk: Person) -> None:
    in_subject = _letter(agency, clerk, subject="ขอความอนุเคราะห์ข้อมูลสถิติ")
    _letter(agency, clerk, subject="เรื่องอื่น", body=["ประกอบการขอความอนุเคราะห์ข้อมูล"])
    assert search(clerk, "ขอความอนุเคราะห์", relevance=True).hits[0].entry.object_id == in_subject.pk


def test_short_terms_still_match(agency: Organisation, clerk: Person) -> None:
    letter = _letter(agency, clerk, subject="ขอเชิญประชุม ณ ห้อง ๒", body=["ห้องประชุม ๒"])
    assert _found(clerk, "ณ") == [letter.pk]
    assert _found(clerk, "ณ ประชุม") == [letter.pk]


def test_variant_spellings_are_editable(agency: Organisation, clerk: Person) -> None:
    letter = _letter(agency, clerk, subject="การใช้งานระบบคลาวด์")
    assert _found(clerk, "คลาวด") == [letter.pk]  # a fragment
    assert _found(clerk, "คราวด์") == []
    SpellingVariant.objects.create(spelling="คลาวด์", group="คลาวด์")
    SpellingVariant.objects.create(spelling="คราวด์", group="คลาวด์")
    assert _found(clerk, "คราวด์") == [letter.pk]


def test_recall_equals_a_substring_scan(agency: Organisation, clerk: Person) -> None:
    """Random letters and random fragments of them: the index finds exactly what a scan of the folded texts does."""
    words = ["ระบบ", "สารบรรณ", "อิเล็กทรอนิกส์", "การประชุม", "คณะกรรมการ", "งบประมาณ", "จังหวัด", "ท้องถิ่น",
             "นร 0105/", "มท ๐๘๑๐/", "ขอความอนุเคราะห์", "แต่งตั้ง", "ประจำปี ๒๕๖๙"]
    rng = random.Random(2569)
    for _ in range(60):
        _letter(agency, clerk, subject=" ".join(rng.sample(words, 3)) + str(rng.randint(1, 99)),
                body=[" ".join(rng.sample(words, 5))])
    texts = dict(SearchEntry.objects.values_list("id", "text"))
    queries = [w[i:j] for w in words for i, j in ((0, 3), (1, 5), (2, len(w)))] + ["สารบรรณ ท้องถิ่น", "0810/", "๒๕๖๙"]
    for typed in queries:
        query = parse(typed)
        expected = {pk for pk, text in texts.items()
                    if all(any(form in text for form in term.forms) for term in query.terms)}
        assert set(matching_ids(query)) == expected, typed


def test_the_index_follows_changes_in_the_background(agency: Organisation, clerk: Person,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    letter = draft(agency, clerk, subject="ร่างแรก")
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        update_letter(letter, content(subject="ร่างที่แก้แล้ว"), actor=clerk)  # on commit: queued
    assert DBTaskResult.objects.filter(task_path="saraban.search.tasks.index_letter").exists()
    index_object("out", letter.pk)  # what the worker runs
    assert _found(clerk, "ร่างที่แก้แล้ว") == [letter.pk]
    assert reindex() == SearchEntry.objects.count()


def test_a_bad_search_is_refused_in_words(clerk: Person) -> None:
    from saraban.core.errors import ValidationFailed

    for typed, code in (("", "required"), ("   ", "required"), ("ก" * 600, "too_long"),
                        (" ".join(["คำ"] * 11), "too_many")):
        with pytest.raises(ValidationFailed) as refused:
            search(clerk, typed)
        assert refused.value.problems[0].code == code


def test_fold() -> None:
    assert fold("นร ๐๑๐๕.๐๔/๑") == "นร0105.04/1"
    assert fold("สำนักงาน") == fold("ส\u0e4d\u0e32นักงาน")
    assert fold("Saraban  ABC") == "sarabanabc"


def test_newest_first_across_id_windows(agency: Organisation, clerk: Person, monkeypatch: Any) -> None:
    from saraban.search import engine

    letters = [_letter(agency, clerk, subject=f"ประกาศรับสมัครงานครั้งที่ {i}") for i in range(30)]
    monkeypatch.setattr(engine, "WINDOWS", (4, 7))  # windows of 4 and 7 ids, then the rest
    assert engine._windows(30) == [(26, 30), (19, 26), (0, 19)]
    seen = [h.entry.object_id for page in (1, 2) for h in search(clerk, "รับสมัครงาน", page=page).hits]
    assert seen == [letter.pk for letter in letters[::-1]]


def test_a_task_queued_before_the_last_indexing_is_skipped(agency: Organisation, clerk: Person) -> None:
    import datetime as dt

    from django.utils import timezone

    from saraban.search.tasks import index_letter

    letter = _letter(agency, clerk, subject="ฉบับแรก")
    before = (timezone.now() - dt.timedelta(seconds=5)).isoformat()
    Letter.objects.filter(pk=letter.pk).update(subject="ฉบับแก้")
    index_letter.call("out", letter.pk, before)  # already indexed since it was queued: skipped
    assert SearchEntry.objects.get(object_id=letter.pk).subject == "ฉบับแรก"
    index_letter.call("out", letter.pk, timezone.now().isoformat())
    assert SearchEntry.objects.get(object_id=letter.pk).subject == "ฉบับแก้"


@pytest.mark.parametrize(("first_read", "max_read", "index_cost"), [(1000, 16_000, 3), (3, 5, 0), (1, 2, 10**9)])
def test_newest_first_reading_on_and_through_the_index(agency: Organisation, ministry: Organisation,
                                                       monkeypatch: Any, first_read: int, max_read: int,
                                                       index_cost: int) -> None:
    """Every hit of the person's organisations once, newest first, whatever batches are asked for and
    wherever reading the newest rows gives way to the index (PostgreSQL: after the first read with an
    index cost of 0, never with a huge one; SQLite reads by its windows)."""
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from saraban.search import engine

    monkeypatch.setattr(engine, "FIRST_READ", first_read)
    monkeypatch.setattr(engine, "MAX_READ", max_read)
    monkeypatch.setattr(engine, "INDEX_COST", index_cost)
    rows = []
    for i in range(60):
        words = ["ประกาศรับสมัครงาน", *(["วิศวกรโยธา"] if i % 17 == 3 else []), *(["ณ ห้อง ๒"] if i % 5 == 0 else [])]
        organisation = ministry if i % 3 == 0 else agency
        display = " ".join(words) + f" ครั้งที่ {i}"
        entry = SearchEntry.objects.create(kind="in", object_id=90_000 + i, organisation=organisation,
                                           text=fold(display), display=display, indexed_at=timezone.now())
        rows.append((entry.pk, organisation.pk, fold(display)))
    for typed in ("รับสมัครงาน", "วิศวกรโยธา", "ณ", "วิศวกร ณ", "ห้อง ณ", "ครั้งที่ 1", "ไม่มีคำนี้"):
        query = parse(typed)
        expected = [pk for pk, organisation_id, text in reversed(rows) if organisation_id == agency.pk
                    and all(any(form in text for form in term.forms) for term in query.terms)]
        for batch, first in ((2, 3), (200, 21), (10_000, None)):
            batches = list(engine.candidates(query, Q(organisation=agency), batch=batch, first=first))
            assert [pk for ids in batches for pk in ids] == expected, (typed, batch, first)
            if connection.vendor == "postgresql":  # whole batches, a page's worth first (SQLite: by window)
                sizes = [first or batch, *[batch] * len(expected)]
                assert [len(ids) for ids in batches[:-1]] == sizes[:len(batches) - 1], (typed, batch, first)
