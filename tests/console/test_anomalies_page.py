"""The console's 要確認データ page: registry rows that contradict a rule, for every staff role."""

from __future__ import annotations

from pathlib import Path

from shikaku.domain.anomalies import AnomalyRule as R
from tests.console.conftest import Desk, login
from tests.registry.test_anomalies import seed_contradictions


def test_the_console_page_for_staff(desk: Desk, tmp_path: Path) -> None:
    seed_contradictions(desk.engine, desk.vault, tmp_path)
    client = desk.client()
    login(client, "audit")
    page = client.get("/console/anomalies")
    assert page.status_code == 200
    assert "後期　未喪失" in page.text and R.COVERED_PAST_75.label in page.text
    assert "要確認データ" in page.text  # in the menu
    download = client.get("/console/anomalies.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "07777777" in download.content.decode("utf-8-sig")
    employer = desk.client()
    login(employer, "emp_a")
    assert employer.get("/console/anomalies").status_code in (403, 404)
