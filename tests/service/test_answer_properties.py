"""Properties of the clinic answer over whatever a registry may hold (service.eligibility).

`answer` is the function every API route calls with the registry's records, so these hold
for the HTTP answers too; the differential test (tests/reference) checks the values.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.ages import late_elderly_on
from shikaku.domain.documents import Document
from shikaku.domain.eligibility import Validity
from shikaku.domain.members import Period
from shikaku.registry.checks import Household, PersonRecord
from shikaku.service.eligibility import CheckQuery, answer

D = timedelta(days=1)
days = st.dates(min_value=date(1940, 1, 1), max_value=date(2035, 12, 31))
# Service days from the first dated copay table on (domain.copay.COPAY_TABLES).
service_days = st.dates(min_value=date(2018, 8, 1), max_value=date(2035, 12, 31))


@st.composite
def records(draw: st.DrawFn) -> tuple[PersonRecord, date]:
    birth = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2030, 12, 31)))
    insured = draw(st.booleans())
    insured_birth = birth if insured else draw(days)
    start = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2034, 1, 1)))
    lost = draw(st.none() | st.integers(1, 20_000).map(lambda n: start + n * D))
    reason = None if lost is None else draw(st.sampled_from(["01", "02", "03", "99"]))
    record = PersonRecord(
        person_id=1,
        relationship=1 if insured else 2,
        insured_id=None if insured else 2,
        name="協会　花子",
        name_kana="キョウカイ　ハナコ",
        birth_date=birth,
        sex=2,
        old_card_expires_on=draw(st.none() | days),
        has_my_number=True,
        periods=((Period(start, lost), reason),),
        household=Household(insured_birth, draw(st.integers(0, 1_500_000)), draw(st.booleans())),
        registration=None,
        elsewhere_from=draw(st.none() | days),
        certificate=None,
    )
    return record, draw(service_days)


@given(records(), st.booleans())
def test_a_valid_answer_always_has_a_copay_rate(
    case: tuple[PersonRecord, date], consent: bool
) -> None:
    record, day = case
    q = CheckQuery("01130012", "1", "1", "00", record.birth_date, day, consent_cap_info=consent)
    result = answer([record], q)
    if result.validity is Validity.VALID:
        assert result.copay_rate in (20, 30)
        assert (result.cap_category is not None) == consent
    else:
        assert result.copay_rate is None and result.accepted_documents == ()


@given(records())
def test_nothing_is_valid_from_the_75th_birthday(case: tuple[PersonRecord, date]) -> None:
    record, day = case
    q = CheckQuery("01130012", "1", "1", "00", record.birth_date, day)
    result = answer([record], q)
    leaves = min(
        late_elderly_on(record.birth_date), late_elderly_on(record.household.insured_birth)
    )
    if day >= leaves:
        assert result.validity is not Validity.VALID
        if result.lost_on is not None:
            assert result.lost_on <= leaves


@given(records())
def test_no_old_card_for_a_qualification_from_the_abolition(
    case: tuple[PersonRecord, date],
) -> None:
    record, day = case
    q = CheckQuery("01130012", "1", "1", "00", record.birth_date, day)
    result = answer([record], q)
    if result.eligible_from is not None and result.eligible_from >= date(2024, 12, 2):
        assert Document.OLD_CARD not in result.accepted_documents
