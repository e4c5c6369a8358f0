"""Job and batch pages: team isolation, live updates, cancel, delete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Batch, Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(team, admin_user_) -> Job:
    return make_job(team, admin_user_, status="succeeded")


def job_urls(job: Job) -> list[tuple[str, str]]:
    urls = [
        ("get", reverse(name, args=[job.id]))
        for name in (
            "job_detail",
            "job_result",
            "job_original",
            "job_thumbnail",
            "job_delete",
        )
    ]
    urls += [
        ("post", reverse("job_cancel", args=[job.id])),
        ("post", reverse("job_delete", args=[job.id])),
    ]
    urls += [("get", reverse("enhance_new") + f"?from={job.id}")]
    if job.batch_id:
        urls += [
            ("get", reverse("batch_detail", args=[job.batch_id])),
            ("get", reverse("batch_download", args=[job.batch_id])),
        ]
    return urls


def test_it_checks_team_on_every_job_url(team, admin_user_, outsider_client):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    job = make_job(team, admin_user_, status="succeeded", batch=batch)
    for method, url in job_urls(job):
        response = getattr(outsider_client, method)(url)
        assert response.status_code == 404, (method, url)
    job.refresh_from_db()
    assert job.status == "succeeded"  # the outsider's cancel and delete did nothing


def test_teammates_see_each_others_jobs(job, teammate_client):
    assert teammate_client.get(reverse("job_detail", args=[job.id])).status_code == 200
    assert teammate_client.get(reverse("job_result", args=[job.id])).status_code == 200


def test_job_pages_need_login(client, job):
    for _, url in job_urls(job):
        response = client.get(url)
        assert response.status_code in (302, 405), url


def test_dashboard_shows_cards_and_polls_only_while_pending(owner_client, team, admin_user_):
    done = make_job(team, admin_user_, status="succeeded", name="done.png")
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert f'id="job-{done.id}"' in page and "Done" in page
    assert "every 2s" not in page

    make_job(team, admin_user_, status="processing", name="busy.png")
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert "every 2s" in page and "Working" in page


def poll(client, since, shown=(), scope="team"):
    return client.get(
        reverse("job_updates"),
        {"since": since.isoformat(), "scope": scope, "shown": [str(s) for s in shown]},
        headers={"HX-Request": "true"},
    )


def test_updates_swap_only_changed_cards_and_add_new_ones(owner_client, team, admin_user_):
    before = timezone.now()
    quiet = make_job(team, admin_user_, status="processing", name="quiet.png")
    Job.objects.filter(pk=quiet.pk).update(updated_at=before - timezone.timedelta(minutes=1))
    moving = make_job(team, admin_user_, status="processing", name="moving.png")
    newcomer = make_job(team, admin_user_, status="queued", name="new.png")

    response = poll(owner_client, before, shown=[quiet.id, moving.id])

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="job-{quiet.id}"' not in html
    assert (
        f'<li class="job-card status-processing" id="job-{moving.id}" hx-swap-oob="outerHTML">'
        in html
    )
    assert 'hx-swap-oob="afterbegin:#job-cards"' in html and f'id="job-{newcomer.id}"' in html
    assert "moving.png: Working." in html  # announced to screen readers


def test_updates_stop_polling_with_286_when_nothing_is_pending(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    before = timezone.now()
    # Checked at once: a job whose automatic checks are still to come is still followed.
    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES, checked_at=timezone.now())

    response = poll(owner_client, before, shown=[job.id])

    assert response.status_code == 286
    html = response.content.decode()
    assert "Done" in html
    assert "every 2s" not in html  # the poller it leaves behind is inert


def test_updates_use_the_same_number_of_queries_for_1_or_50_pending(
    owner_client, team, admin_user_
):
    since = timezone.now()
    first = make_job(team, admin_user_, status="processing")
    owner_client.get(reverse("dashboard"))  # warm the session

    with CaptureQueriesContext(connection) as one:
        poll(owner_client, since, shown=[first.id])
    more = [make_job(team, admin_user_, status="processing", name=f"{i}.png") for i in range(49)]
    with CaptureQueriesContext(connection) as fifty:
        poll(owner_client, since, shown=[first.id, *[j.id for j in more]])

    assert len(one) == len(fifty)


def test_updates_check_team(outsider_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    response = poll(
        outsider_client, timezone.now() - timezone.timedelta(hours=1), shown=[job.id], scope="shown"
    )
    assert str(job.id) not in response.content.decode()


def test_batch_scope_updates_progress(owner_client, team, admin_user_):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    a = make_job(team, admin_user_, status="processing", batch=batch)
    make_job(team, admin_user_, status="succeeded", batch=batch)
    since = timezone.now()
    a.advance("succeeded", allowed_from=Job.PENDING_STATUSES)

    html = poll(owner_client, since, shown=[a.id], scope=f"batch:{batch.id}").content.decode()

    assert 'id="batch-progress" hx-swap-oob="true"' in html
    assert "2 of 2" in html


def test_cancel_a_pending_job(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    response = owner_client.post(reverse("job_cancel", args=[job.id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "canceled"
    # Canceling again, or a finished job, changes nothing.
    owner_client.post(reverse("job_cancel", args=[job.id]))
    job.refresh_from_db()
    assert job.status == "canceled"


def test_delete_asks_first_then_removes_the_files(owner_client, job):
    confirm = owner_client.get(reverse("job_delete", args=[job.id]))
    assert "cannot be undone" in confirm.content.decode()
    storage = job.original.storage
    names = [job.original.name, job.result.name]

    owner_client.post(reverse("job_delete", args=[job.id]))

    assert not Job.objects.filter(pk=job.pk).exists()
    assert not any(storage.exists(name) for name in names)


def test_job_page_of_a_pending_job_polls_its_status(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "?part=status" in page and "Cancel" in page
    partial = owner_client.get(
        reverse("job_detail", args=[job.id]) + "?part=status", headers={"HX-Request": "true"}
    )
    assert "Working" in partial.content.decode()
    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES)
    finished = owner_client.get(
        reverse("job_detail", args=[job.id]) + "?part=status", headers={"HX-Request": "true"}
    )
    assert finished["HX-Refresh"] == "true"


def test_source_urls_are_signed_and_expire(client, job, settings):
    from django.core import signing

    from enhancer.links import source_url

    url = source_url(job.original.name).removeprefix(settings.SITE_URL)
    assert client.get(url).status_code == 200
    assert client.get(url[:-3] + "abc").status_code == 404
    forged = signing.TimestampSigner(salt="other").sign(job.original.name)
    assert client.get(f"/source/{forged}").status_code == 404
    outside = signing.TimestampSigner(salt="detailer.job-source").sign("secret_key.txt")
    assert client.get(f"/source/{outside}").status_code == 404


def test_responses_vary_on_hx_request(owner_client):
    assert "HX-Request" in owner_client.get(reverse("dashboard"))["Vary"]
