from __future__ import annotations

import importlib

import pytest
from django.urls import clear_url_caches

import detailer_site.urls


@pytest.fixture
def reload_urls():
    yield
    importlib.reload(detailer_site.urls)
    clear_url_caches()


def test_the_engine_can_be_switched_off(client, settings, reload_urls):
    settings.DETAILER_ENGINE_ENABLED = False
    importlib.reload(detailer_site.urls)
    clear_url_caches()
    assert client.get("/engine/v2/artworks").status_code == 404


def test_the_engine_answers_when_on(client, db):
    response = client.get("/engine/v2/artworks")
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
