"""Nobody types the issuer: the name, address and letter code come from the directory (no impersonation)."""

from __future__ import annotations

import pytest

from saraban.core.errors import ValidationFailed
from saraban.correspondence.services import create_letter, update_letter
from saraban.directory.models import Organisation, Person
from saraban.directory.services import create_organisation

from .helpers import numbered
from .test_letters import example

SPOOF = {"name": "กระทรวงมหาดไทย", "letter_code": "มท 0808", "address": "ถนนอัษฎางค์ กรุงเทพมหานคร"}


@pytest.mark.django_db
def test_a_typed_issuer_is_replaced_by_the_directorys(agency: Organisation, clerk: Person, signer: Person) -> None:
    letter = create_letter(agency, example("external", issuer=SPOOF), author=clerk)
    issuer = letter.letter_content.issuer
    assert issuer.name == "สำนักงานปลัดสำนักนายกรัฐมนตรี" and issuer.letter_code == "นร 0105"
    assert "อัษฎางค์" not in issuer.address
    letter = update_letter(letter, {"issuer": SPOOF}, actor=clerk)
    assert letter.letter_content.issuer.name == "สำนักงานปลัดสำนักนายกรัฐมนตรี"
    letter = numbered(letter, author=clerk, signer=signer, clerk=clerk)
    assert letter.number.startswith("นร 0105/") and "มท" not in letter.number


@pytest.mark.django_db
def test_the_unit_in_charge_must_be_the_organisations_own(agency: Organisation, clerk: Person) -> None:
    stranger = create_organisation(identifier="moi", kind="ministry", name_th="กระทรวงมหาดไทย", letter_code="มท 0808")
    with pytest.raises(ValidationFailed) as refused:
        create_letter(agency, example("external"), author=clerk, owner_unit=stranger)
    assert refused.value.problems[0].field == "owner_unit"
    unit = create_organisation(identifier="opm-ops-it", parent=agency, kind="division",
                               name_th="กองพัฒนาระบบบริหาร", letter_code="นร 0105.04")
    letter = create_letter(agency, example("external", issuer=SPOOF), author=clerk, owner_unit=unit)
    assert letter.letter_content.issuer.letter_code == "นร 0105.04"
    assert letter.letter_content.issuer.name == "สำนักงานปลัดสำนักนายกรัฐมนตรี"  # an external letter: the agency
