"""Share links: public pages that show one result and nothing else, until revoked or expired."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from enhancer.models import AuditEvent, Batch, ShareLink
from enhancer.tokens import hash_token
from tests.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(team, admin_user_):
    return make_job(team, admin_user_, status="succeeded", name="harbour.png")


def share(client, job, **data) -> ShareLink:
    response = client.post(reverse("share_job", args=[job.id]), data)
    assert response.status_code == 302
    return ShareLink.objects.filter(job=job).latest("created_at")


def public_urls(link: ShareLink, job) -> list[str]:
    token = link.token
    return [
        reverse("share_page", args=[token]),
        reverse("share_file", args=[token, job.id, "original"]),
        reverse("share_file", args=[token, job.id, "result"]),
        reverse("share_file", args=[token, job.id, "thumbnail"]),
    ]


def test_a_member_shares_a_job_and_the_link_is_listed_on_its_page(teammate_client, job, team):
    link = share(teammate_client, job, expires_in_days="7")
    assert link.team == team and link.created_by.username == "bob"
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)
    page = teammate_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert link.url in page and "Revoke" in page
    event = AuditEvent.objects.get(action="share_created")
    assert event.actor_name == "bob" and "harbour.png" in event.detail


def test_the_token_is_looked_up_by_hash_and_stored_encrypted(owner_client, job):
    link = share(owner_client, job)
    assert link.token_hash == hash_token(link.token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM enhancer_sharelink WHERE id = %s", [link.pk])
        assert link.token not in cursor.fetchone()[0]


def test_the_public_page_shows_the_comparison_and_nothing_of_the_team(
    client, owner_client, job, teammate
):
    make_job(job.team, teammate, status="succeeded", name="secret-plans.png")
    link = share(owner_client, job)

    response = client.get(link.path)

    assert response.status_code == 200
    assert response["X-Robots-Tag"].startswith("noindex")
    # same-origin: the token never leaves for another site, and the approval form passes CSRF.
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex' in html
    assert "data-compare" in html and ">Download<" in html
    assert reverse("share_file", args=[link.token, job.id, "result"]) in html
    for secret in ("Studio Alice", "alice", "bob", "secret-plans", "Log out", "Dashboard"):
        assert secret not in html, secret
    for url in public_urls(link, job)[1:]:
        file_response = client.get(url)
        assert file_response.status_code == 200, url
        assert file_response["X-Robots-Tag"].startswith("noindex")


def test_the_job_page_and_the_share_page_use_the_same_comparison(owner_client, client, job):
    link = share(owner_client, job)
    inside = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    outside = client.get(link.path).content.decode()
    for html in (inside, outside):
        assert 'class="compare-section"' in html and "data-compare-range" in html


def test_a_revoked_link_stops_working(owner_client, client, job):
    link = share(owner_client, job)
    owner_client.post(reverse("share_revoke", args=[link.pk]))
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by.username == "alice"
    for url in public_urls(link, job):
        # The page itself says the link was withdrawn (410); its files are simply gone.
        assert client.get(url).status_code == (410 if url == link.path else 404), url
    page = client.get(link.path)
    html = page.content.decode()
    assert "This link was withdrawn" in html and "team you are not in" not in html
    assert job.original_name not in html and "Studio Alice" not in html
    assert page["X-Robots-Tag"].startswith("noindex") and page["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="share_revoked").exists()
    assert link.url not in owner_client.get(reverse("job_detail", args=[job.id])).content.decode()


def test_an_expired_link_stops_working(owner_client, client, job):
    link = share(owner_client, job, expires_in_days="1")
    assert client.get(link.path).status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for url in public_urls(link, job):
        assert client.get(url).status_code == (410 if url == link.path else 404), url
    assert "This link has expired" in client.get(link.path).content.decode()


def test_bad_tokens_are_plain_404s(client, job):
    for token in ("nope", "A" * 43, "x" * 400):
        response = client.get(reverse("share_page", args=[token]))
        assert response.status_code == 404
        assert "Studio Alice" not in response.content.decode()
        response = client.get(reverse("share_file", args=[token, job.id, "result"]))
        assert response.status_code == 404


def test_a_link_opens_only_its_own_job(owner_client, client, job, team, admin_user_):
    other = make_job(team, admin_user_, status="succeeded", name="other.png")
    link = share(owner_client, job)
    for kind in ("original", "result", "thumbnail"):
        assert (
            client.get(reverse("share_file", args=[link.token, other.id, kind])).status_code == 404
        )
    assert (
        client.get(reverse("share_file", args=[link.token, job.id, "secrets"])).status_code == 404
    )
    assert client.get(reverse("share_batch_job", args=[link.token, job.id])).status_code == 404


def test_only_finished_jobs_can_be_shared(owner_client, team, admin_user_):
    pending = make_job(team, admin_user_, status="processing")
    owner_client.post(reverse("share_job", args=[pending.id]))
    assert not ShareLink.objects.exists()


def test_it_checks_team_on_share_urls(outsider_client, owner_client, job):
    assert outsider_client.post(reverse("share_job", args=[job.id])).status_code == 404
    link = share(owner_client, job)
    assert outsider_client.post(reverse("share_revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.is_active


def test_share_urls_need_login(client, job):
    assert client.post(reverse("share_job", args=[job.id])).status_code == 302
    assert not ShareLink.objects.exists()


def test_htmx_swaps_the_share_section(owner_client, job):
    response = owner_client.post(
        reverse("share_job", args=[job.id]), {"expires_in_days": ""}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="share-links"')
    link = ShareLink.objects.get()
    assert link.expires_at is None and link.url in html and "no end date" in html


def test_deleting_the_job_deletes_its_links(owner_client, client, job):
    link = share(owner_client, job)
    owner_client.post(reverse("job_delete", args=[job.id]))
    assert not ShareLink.objects.exists()
    assert client.get(link.path).status_code == 404


# --- Batches ----------------------------------------------------------------------------------


@pytest.fixture
def batch(team, admin_user_) -> Batch:
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    make_job(team, admin_user_, status="succeeded", batch=batch, name="one.png")
    make_job(team, admin_user_, status="succeeded", batch=batch, name="two.png")
    make_job(team, admin_user_, status="failed", batch=batch, name="broken.png")
    return batch


def test_a_shared_batch_shows_its_results_and_downloads_them(owner_client, client, batch):
    owner_client.post(reverse("share_batch", args=[batch.id]))
    link = ShareLink.objects.get(batch=batch)

    page = client.get(link.path)
    html = page.content.decode()
    assert page.status_code == 200 and page["X-Robots-Tag"].startswith("noindex")
    assert "one.png" in html and "two.png" in html
    assert "broken.png" not in html and "alice" not in html and "Studio Alice" not in html

    one = batch.jobs.get(original_name="one.png")
    detail = client.get(reverse("share_batch_job", args=[link.token, one.id]))
    assert detail.status_code == 200 and "data-compare" in detail.content.decode()
    broken = batch.jobs.get(original_name="broken.png")
    assert client.get(reverse("share_batch_job", args=[link.token, broken.id])).status_code == 404

    download = client.get(reverse("share_download_all", args=[link.token]))
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == ["one-2x.png", "two-2x.png"]


def test_a_revoked_batch_link_stops_working(owner_client, client, batch):
    owner_client.post(reverse("share_batch", args=[batch.id]))
    link = ShareLink.objects.get(batch=batch)
    owner_client.post(reverse("share_revoke", args=[link.pk]))
    one = batch.jobs.get(original_name="one.png")
    for url in (
        link.path,
        reverse("share_batch_job", args=[link.token, one.id]),
        reverse("share_download_all", args=[link.token]),
        reverse("share_file", args=[link.token, one.id, "result"]),
    ):
        pages = (link.path, reverse("share_batch_job", args=[link.token, one.id]))
        assert client.get(url).status_code == (410 if url in pages else 404), url


def test_the_batch_page_lists_its_links(owner_client, batch):
    owner_client.post(reverse("share_batch", args=[batch.id]))
    link = ShareLink.objects.get(batch=batch)
    page = owner_client.get(reverse("batch_detail", args=[batch.id])).content.decode()
    assert link.url in page


def test_it_checks_team_on_batch_share(outsider_client, batch):
    assert outsider_client.post(reverse("share_batch", args=[batch.id])).status_code == 404
    assert not ShareLink.objects.exists()
