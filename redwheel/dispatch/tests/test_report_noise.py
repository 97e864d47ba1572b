"""Differences within the noise of the seeds are marked on the run report by more than colour:
a "≈" before the difference (app.css) and a hidden "(not significant)" for screen readers."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from redwheel import testing
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.tests.test_sandbox import tiny_run, twin_sets

pytestmark = pytest.mark.django_db


def test_noise_cells_carry_a_textual_marker(client, city, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    run = tiny_run(city.admin, twin_sets(city), seeds=2, idle_policy="stay")
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    client.force_login(testing.staff(city.root, "regulator"))

    page = client.get(reverse("dispatch:run_detail", args=[run.pk])).content.decode()
    noise_cells = re.findall(r'<td class="num noise">(.*?)</td>', page, re.S)
    # Twin rule sets: every metric of the second column is within the noise.
    assert len(noise_cells) >= 10
    for cell in noise_cells:
        assert 'class="delta" title="Not significant: within the noise of the seeds.">' in cell
        assert '<span class="visually-hidden">(not significant)</span>' in cell
    assert "≈ marks a difference within the noise: not significant." in page


def test_the_stylesheet_mutes_noise_and_prefixes_it():
    with open(finders.find("redwheel/app.css"), encoding="utf-8") as file:
        css = file.read()
    assert re.search(r"\.noise[^{]*\{[^}]*color:\s*var\(--muted\)", css)
    assert re.search(r'\.noise \.delta::before\s*\{\s*content:\s*"≈', css)
