"""The editor's recipient picker: the search endpoint (/letters/recipients) and the ส่งถึง / สำเนาส่ง fields.

The directory may hold thousands of organisations, some hosted by another deployment (recipients
only): the editor never lists them all; it searches as one types and checks the ids posted with a query.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from saraban.correspondence.models import Letter, RecipientKind
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from tests.helpers import PASSWORD
from tests.web.test_workflow_pages import client_for, content, editor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def province(db: None) -> Organisation:
    return create_organisation(
        identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี", name_en="Nonthaburi Province",
        letter_code="นบ 0017", category="other",
    )


@pytest.fixture
def province_unit(province: Organisation) -> Organisation:
    """A unit of another organisation: reached through its central registry, never addressed directly."""
    return create_organisation(identifier="nont-finance", parent=province, kind="division",
                               name_th="กองคลัง จังหวัดนนทบุรี", letter_code="นบ 0017.2", category="other")


@pytest.fixture
def own_unit(agency: Organisation) -> Organisation:
    """A unit of the sender: an internal memo may go to it."""
    return create_organisation(identifier="opm-ops-admin", parent=agency, kind="division", name_th="กองกลาง",
                               name_en="General Administration Division", letter_code="นร 0105.01", category="opm")


@pytest.fixture
def closed(db: None) -> Organisation:
    return create_organisation(identifier="old-nont", kind="municipality", name_th="สุขาภิบาลนนทบุรี (เดิม)",
                               letter_code="นบ 5999", category="lao", is_active=False)


@pytest.fixture
def remote(db: None) -> Organisation:
    """An organisation of another Saraban deployment (no people here: a recipient only)."""
    return create_organisation(identifier="cmu", kind="state_body", name_th="มหาวิทยาลัยเชียงใหม่",
                               name_en="Chiang Mai University", letter_code="อว 8393", category="mhesi",
                               home_deployment="mhesi.saraban.go.th")


@pytest.fixture
def directory(agency: Organisation, province: Organisation, province_unit: Organisation, own_unit: Organisation,
              closed: Organisation, remote: Organisation) -> None:
    """Every kind of organisation the picker must tell apart."""


def search(client: Client, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/letters/recipients", {"q": q, **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return list(response.json()["results"])


def names(results: list[dict[str, Any]]) -> list[str]:
    return [r["name_th"] for r in results]


# --- the endpoint: what matches ----------------------------------------------------------------------

def test_matches_part_of_a_thai_or_english_name(directory: None, clerk: Person, province: Organisation) -> None:
    client = client_for(clerk)
    assert names(search(client, "นนทบุ")) == ["จังหวัดนนทบุรี"]  # not its unit, not the inactive one
    assert names(search(client, "nonthaburi")) == ["จังหวัดนนทบุรี"]
    assert names(search(client, "  CHIANG mai ")) == ["มหาวิทยาลัยเชียงใหม่"]
    [row] = search(client, "นนทบุรี")
    assert row == {"id": province.pk, "name_th": "จังหวัดนนทบุรี", "name_en": "Nonthaburi Province",
                   "letter_code": "นบ 0017", "remote": False}


def test_matches_the_letter_code_with_spaces_ignored_and_thai_digits(directory: None, clerk: Person) -> None:
    client = client_for(clerk)
    for q in ("นบ 0017", "นบ0017", "นบ  00 17", "นบ๐๐๑๗", "นบ ๐๐๑๗", "0017"):
        assert names(search(client, q)) == ["จังหวัดนนทบุรี"], q
    assert names(search(client, "นร0105.01")) == ["กองกลาง"]
    assert names(search(client, "อว ๘๓๙๓")) == ["มหาวิทยาลัยเชียงใหม่"]


def test_thai_digits_in_names_match_either_way(agency: Organisation, clerk: Person) -> None:
    create_organisation(identifier="school-2", kind="state_body", name_th="โรงเรียนบ้านหนองบัว ๒", category="other")
    client = client_for(clerk)
    assert names(search(client, "หนองบัว 2")) == ["โรงเรียนบ้านหนองบัว ๒"]
    assert names(search(client, "หนองบัว ๒")) == ["โรงเรียนบ้านหนองบัว ๒"]


def test_an_organisation_of_another_deployment_is_marked_remote(
    directory: None, clerk: Person, remote: Organisation
) -> None:
    [row] = search(client_for(clerk), "เชียงใหม่")
    assert row["id"] == remote.pk and row["remote"] is True and row["letter_code"] == "อว 8393"


def test_an_exact_code_comes_before_longer_codes_that_contain_it(agency: Organisation, clerk: Person) -> None:
    create_organisation(identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี", letter_code="นบ 0017",
                        category="other")
    create_organisation(identifier="a-first", kind="state_body", name_th="กกกกก สำนักงานพื้นที่", letter_code="นบ 00171",
                        category="other")
    assert names(search(client_for(clerk), "นบ0017")) == ["จังหวัดนนทบุรี", "กกกกก สำนักงานพื้นที่"]


# --- the endpoint: who may be addressed --------------------------------------------------------------

def test_eligibility_not_self_not_other_units_not_inactive_own_units_yes(
    directory: None, clerk: Person, ministry: Organisation, own_unit: Organisation
) -> None:
    client = client_for(clerk)
    everyone = names(search(client, ""))  # an empty search: the first organisations by name
    assert set(everyone) == {"สำนักนายกรัฐมนตรี", "กองกลาง", "จังหวัดนนทบุรี", "มหาวิทยาลัยเชียงใหม่"}
    assert everyone == sorted(everyone)
    assert "สำนักงานปลัดสำนักนายกรัฐมนตรี" not in names(search(client, "สำนักงานปลัด"))  # the sender itself
    assert search(client, "กองคลัง") == []  # another organisation's unit
    assert search(client, "สุขาภิบาล") == [] and search(client, "นบ5999") == []  # inactive


def test_the_sender_is_the_organisation_asked_for_when_the_user_writes_for_it(
    directory: None, agency: Organisation, own_unit: Organisation
) -> None:
    """A clerk of a unit writes for the unit: the department above is a recipient, the unit is not."""
    unit_clerk = create_person(username="unit.clerk", name_th="นายหน่วย งานดี", password=PASSWORD)
    assign_role(unit_clerk, own_unit, "officer", position_title="นักจัดการงานทั่วไป")
    client = client_for(unit_clerk)
    assert "สำนักงานปลัดสำนักนายกรัฐมนตรี" in names(search(client, "สำนักงานปลัด", **{"for": str(own_unit.pk)}))
    assert search(client, "กองกลาง", **{"for": str(own_unit.pk)}) == []


def test_at_most_twenty_answers(agency: Organisation, clerk: Person) -> None:
    Organisation.objects.bulk_create([
        Organisation(identifier=f"sao-{i}", kind="sao", name_th=f"องค์การบริหารส่วนตำบลบางรัก {i:03}",
                     letter_code=f"นบ 7{i:04}", category="lao") for i in range(60)
    ])
    client = client_for(clerk)
    found = search(client, "บางรัก")
    assert len(found) == 20 and names(found) == sorted(names(found))
    assert len(search(client, "")) == 20
    with CaptureQueriesContext(connection) as queries:
        search(client, "นบ7")
    assert len(queries) < 12  # session, user, roles, the units' walk and one search: not one per organisation


# --- the endpoint: tenancy and odd input -------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in(directory: None) -> None:
    response = Client().get("/letters/recipients", {"q": "นนทบุรี"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_only_an_organisation_the_user_writes_for(directory: None, clerk: Person, province: Organisation) -> None:
    client = client_for(clerk)
    refused = client.get("/letters/recipients", {"q": "", "for": str(province.pk)})
    assert refused.status_code == 404
    body = refused.json()
    assert body["code"] == "no_organisation" and body["message_th"] and body["message_en"]
    nobody = create_person(username="nobody", name_th="นายไม่มี บทบาท", password=PASSWORD)
    assert client_for(nobody).get("/letters/recipients", {"q": "นนทบุรี"}).status_code == 404


@pytest.mark.parametrize(("params", "code"), [
    ({"q": "ก" * 101}, "bad_search"),
    ({"q": "นนท\x00บุรี"}, "bad_search"),
    ({"q": "a\x1fb"}, "bad_search"),
    ({"q": "x", "for": "abc"}, "bad_organisation"),
    ({"q": "x", "for": "๑"}, "bad_organisation"),
    ({"q": "x", "for": "9" * 40}, "bad_organisation"),
    ({"q": "x", "for": "-1"}, "bad_organisation"),
    ({"q": "x", "for": "0"}, "bad_organisation"),
])
def test_odd_input_is_a_bilingual_400_never_a_500(
    directory: None, clerk: Person, params: dict[str, str], code: str
) -> None:
    response = client_for(clerk, "en").get("/letters/recipients", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["message"] == body["message_en"] and body["message_th"]


@pytest.mark.parametrize("q", ["%", "_", "\\", "'; drop table x; --", "ก" * 100, "🙂", "<script>"])
def test_characters_that_mean_something_to_sql_or_html_are_just_searched(
    directory: None, clerk: Person, q: str
) -> None:
    assert search(client_for(clerk), q) == []


def test_only_get(directory: None, clerk: Person) -> None:
    assert client_for(clerk).post("/letters/recipients", {"q": "x"}).status_code == 405


# --- the editor's fields -----------------------------------------------------------------------------

def test_the_editor_lists_no_organisation_until_chosen(directory: None, clerk: Person, agency: Organisation) -> None:
    Organisation.objects.bulk_create([
        Organisation(identifier=f"muni-{i}", kind="municipality", name_th=f"เทศบาลตำบลทดสอบ{i:04}", category="lao")
        for i in range(300)
    ])
    html = client_for(clerk).get("/letters/new/?type=external").content.decode()
    assert "เทศบาลตำบลทดสอบ" not in html and "จังหวัดนนทบุรี" not in html
    assert f'data-recipients="/letters/recipients?for={agency.pk}"' in html
    assert 'data-remote-label="ระบบอื่น"' in html and 'name="to"' in html and 'name="cc"' in html


def test_a_saved_draft_shows_its_recipients_chosen(
    directory: None, agency: Organisation, clerk: Person, signer: Person, province: Organisation, remote: Organisation
) -> None:
    client = client_for(clerk)
    data = editor_data(signer, to=[str(province.pk), str(remote.pk)], cc=[str(remote.pk)])
    response = client.post("/letters/new/?type=external", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    letter = Letter.objects.get()
    kept = [(r.organisation_id, r.kind) for r in letter.recipients.order_by("position")]
    assert kept == [(province.pk, RecipientKind.TO), (remote.pk, RecipientKind.TO)]  # a copy to a "to" is dropped
    html = client.get(f"/letters/{letter.pk}/edit/").content.decode()
    assert f'<option value="{province.pk}" selected data-code="นบ 0017">จังหวัดนนทบุรี</option>' in html
    assert f'<option value="{remote.pk}" selected data-code="อว 8393" data-remote="1">มหาวิทยาลัยเชียงใหม่</option>' in html
    # Saved again as it is shown, the recipients stay.
    again = client.post(f"/letters/{letter.pk}/edit/", editor_data(signer, to=[str(province.pk), str(remote.pk)]))
    assert again.status_code == 302
    assert [r.organisation_id for r in letter.recipients.order_by("position")] == [province.pk, remote.pk]


@pytest.mark.parametrize("who", ["self", "other_unit", "inactive", "missing", "not_a_number", "huge"])
def test_posting_an_organisation_that_cannot_be_addressed_is_refused_next_to_the_field(
    directory: None, agency: Organisation, clerk: Person, signer: Person, province_unit: Organisation,
    closed: Organisation, province: Organisation, who: str,
) -> None:
    bad = {"self": str(agency.pk), "other_unit": str(province_unit.pk), "inactive": str(closed.pk),
           "missing": "987654", "not_a_number": "นนทบุรี", "huge": "9" * 30}[who]
    response = client_for(clerk).post("/letters/new/?type=external", editor_data(signer, to=[str(province.pk), bad]))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="f-to has-error"' in html
    assert "มีหน่วยงานที่หนังสือนี้ส่งถึงไม่ได้" in html or "ตัวเลือกนี้ไม่มีในรายการ" in html
    assert f'<option value="{province.pk}" selected' in html  # the valid choice is kept on the page
    assert not Letter.objects.exists()


def test_the_refusal_is_in_english_when_asked(
    directory: None, clerk: Person, signer: Person, province_unit: Organisation
) -> None:
    response = client_for(clerk, "en").post("/letters/new/?type=external",
                                            editor_data(signer, cc=[str(province_unit.pk)]))
    assert response.status_code == 400
    assert "An organisation chosen cannot receive this letter" in response.content.decode()


def test_an_existing_drafts_recipient_that_closed_since_is_shown_and_refused_on_saving(
    directory: None, agency: Organisation, clerk: Person, signer: Person, province: Organisation
) -> None:
    letter = create_letter(agency, content(), author=clerk)
    set_recipients(letter, [province], [], actor=clerk)
    Organisation.objects.filter(pk=province.pk).update(is_active=False)
    client = client_for(clerk)
    html = client.get(f"/letters/{letter.pk}/edit/").content.decode()
    assert f'<option value="{province.pk}" selected' in html  # not lost silently
    refused = client.post(f"/letters/{letter.pk}/edit/", editor_data(signer, to=[str(province.pk)]))
    assert refused.status_code == 400 and 'class="f-to has-error"' in refused.content.decode()


def test_the_form_checks_the_ids_with_one_query_not_a_list(
    directory: None, clerk: Person, signer: Person, province: Organisation, remote: Organisation
) -> None:
    Organisation.objects.bulk_create([
        Organisation(identifier=f"muni-{i}", kind="municipality", name_th=f"เทศบาลตำบลทดสอบ{i:04}", category="lao")
        for i in range(300)
    ])
    client = client_for(clerk)
    client.get("/letters/new/?type=external")  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/letters/preview/", editor_data(signer, to=[str(province.pk)], cc=[str(remote.pk)]))
    assert response.status_code == 200
    eligible = [sql for sql in (q["sql"] for q in queries)
                # the eligibility rule (active, not another organisation's division) over the ids posted;
                # written alike by SQLite and PostgreSQL (which spells a boolean condition differently)
                if 'FROM "directory_organisation" WHERE' in sql and "'division'" in sql
                and '"directory_organisation"."is_active"' in sql]
    assert len(eligible) == 2  # one check for ส่งถึง, one for สำเนาส่ง ...
    assert all(" IN (" in sql and "LIMIT" not in sql for sql in eligible)  # ... of the ids posted, not a list
