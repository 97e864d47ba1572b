"""Every page URL from before pages moved by audience (issue 13) still leads to its page.

data/old_urls.json was generated from the resolver before the move: each pattern's route, its
URL name and a concrete sample path (ids 101, 102, …). An old URL that moved answers 301 (GET,
HEAD) or 308 (other methods) with the rest of the path and the query string kept, and the
Location resolves to the same URL name with the same arguments; one that did not move still
resolves to its name. The JSON API and the admin did not move and are not listed.
"""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.test.utils import override_script_prefix
from django.urls import resolve
from django.urls.resolvers import RoutePattern

from config import legacy_urls

OLD = json.loads((Path(__file__).parent / "data" / "old_urls.json").read_text())
# URL names that changed: honest names (Mobilisation → mobilization) and pages that moved app.
RENAMED = {
    f"mobilization:mobilisation_{suffix}": f"mobilization:mobilization_{suffix}"
    for suffix in ("list", "detail", "board", "call", "close", "cancel", "export")
} | {
    # The staff home and coverage count drivers, so they moved up to the insights layer.
    "orgs:dashboard": "insights:dashboard",
    "orgs:coverage": "insights:coverage",
}
QUERY = "page=2&q=%E5%BC%A0"


def _moved(row) -> bool:
    return resolve(row["sample"]).func is legacy_urls.moved


def _old_kwargs(row) -> dict:
    match = RoutePattern(row["route"], is_endpoint=True).match(row["sample"].lstrip("/"))
    assert match, row
    return match[2]


def test_the_old_list_is_complete():
    names = {row["name"] for row in OLD}
    assert len(OLD) == len(names) > 100
    assert {"orgs:dashboard", "imports:list", "core:audit_log", "me:badge"} <= names
    assert sum(map(_moved, OLD)) > 80


@pytest.mark.parametrize("row", OLD, ids=[row["route"] or "/" for row in OLD])
def test_every_old_url_reaches_its_page(row):
    name = RENAMED.get(row["name"], row["name"])
    if not _moved(row):
        assert resolve(row["sample"]).view_name == name
        return
    client = Client()
    for method, status in (("get", 301), ("head", 301), ("post", 308), ("put", 308)):
        response = getattr(client, method)(f"{row['sample']}?{QUERY}")
        assert response.status_code == status, (method, row["sample"])
        location = urlsplit(response["Location"])
        assert location.query == QUERY
        assert location.path != row["sample"]
        match = resolve(location.path)
        assert match.view_name == name, (row["sample"], location.path)
        assert match.kwargs == _old_kwargs(row)


def test_an_old_prefix_without_a_page_is_not_found():
    client = Client()
    assert client.get("/mobilization/no-such-page/").status_code == 404
    assert client.get("/sandbox/runs/12/nothing/").status_code == 404


def test_moved_paths_keep_non_ascii_and_the_script_prefix():
    response = Client().post("/mobilization/me/signups/5/确认/")
    assert response.status_code == 308
    assert response["Location"] == "/me/mobilization/signups/5/%E7%A1%AE%E8%AE%A4/"
    with override_script_prefix("/rw/"):  # served under a sub-path
        response = Client().get("/mobilization/volunteer/7/?x=1")
    assert response["Location"] == "/rw/staff/mobilization/volunteer/7/?x=1"


def test_live_pages_win_over_the_redirects():
    """Pages whose prefix is also an old prefix (appeals' case pages) are not redirected."""
    assert resolve("/appeals/5/").view_name == "appeals:detail"
    assert resolve("/appeals/attachments/5/").view_name == "appeals:attachment"
    assert resolve("/scoring/rules/").view_name == "scoring:rules"
