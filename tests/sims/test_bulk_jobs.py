"""Bulk actions on more than BULK_JOB_ABOVE_SIMS SIMs: a background job with progress and a stored report,
run in committed chunks by id, resumed after its last chunk when a worker dies."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lib.bulk_insert import bulk_insert, db_datetime
from sims import bulk_jobs
from sims.bulk_jobs import run_bulk_job, run_bulk_job_task
from sims.models import BulkJob, Sim, SimEvent, State
from tests.conftest import text_of

FIELDS = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]


def bulk(client, product, **data):
    return client.post(reverse("sims_bulk", args=[product.slug]), data, headers={"HX-Request": "true"})


def progress(client, job, htmx=False):
    headers = {"HX-Request": "true", "HX-Target": "progress"} if htmx else {}
    return client.get(reverse("bulk_job", args=[job.product.slug, job.pk]), headers=headers)


def queued_runs() -> int:
    return DBTaskResult.objects.filter(task_path=run_bulk_job_task.module_path).count()


@pytest.fixture
def small_jobs(settings):
    """Jobs above 10 SIMs, in chunks of 4: the rule at the size of a test."""
    settings.BULK_JOB_ABOVE_SIMS = 10
    settings.BULK_JOB_CHUNK_SIMS = 4


def test_more_than_10000_sims_become_a_job_and_the_request_changes_none(owner_client, product, django_capture_on_commit_callbacks):
    now = db_datetime(timezone.now())
    bulk_insert(Sim, FIELDS, [(f"89012600{n:011d}", product.pk, "active", now, "US", 1, 0, now) for n in range(10_001)])

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(owner_client, product, action="set_data_limit", data_limit_mb="20", scope="matching")

    job = BulkJob.objects.get()
    assert response["HX-Redirect"] == reverse("bulk_job", args=[product.slug, job.pk])
    assert (job.status, job.action, job.confirmed_count, job.data_limit_mb) == ("queued", "set_data_limit", None, 20)
    assert queued_runs() == 1
    assert not Sim.objects.filter(data_limit_mb=20).exists() and not SimEvent.objects.exists()

    run_bulk_job(job_id=job.pk)  # what the worker does: 10,001 SIMs in chunks of 5,000
    job.refresh_from_db()
    assert (job.status, job.total, job.changed, job.chunks_done) == ("done", 10_001, 10_001, 3)
    assert Sim.objects.filter(data_limit_mb=20).count() == 10_001


def test_at_the_threshold_the_action_still_runs_in_the_request(owner_client, product, make_sim, small_jobs):
    for _ in range(10):
        make_sim(product)
    response = bulk(owner_client, product, action="set_data_limit", data_limit_mb="20", scope="matching")
    assert "Set data limit: 10 done." in text_of(response)
    assert not BulkJob.objects.exists()


def test_a_harmful_job_needs_the_typed_number_before_it_starts(owner_client, product, make_sim, small_jobs):
    for _ in range(12):
        make_sim(product)
    asked = bulk(owner_client, product, action="terminate", confirm_terminate="on", scope="matching")
    assert "Type 12 to terminate 12 SIMs" in text_of(asked)
    assert "It runs in the background" in text_of(asked)
    assert not BulkJob.objects.exists()

    bulk(owner_client, product, action="terminate", confirm_terminate="on", scope="matching", confirm_count="12", shown_count="12")
    assert BulkJob.objects.get().confirmed_count == 12


def test_the_job_acts_on_the_filter_and_reports_changed_and_skipped_with_why(owner_client, product, make_sim, small_jobs):
    active = [make_sim(product, home_country="FR") for _ in range(10)]
    suspended = [make_sim(product, home_country="FR", state=State.SUSPENDED) for _ in range(3)]
    elsewhere = make_sim(product, home_country="DE")
    bulk(owner_client, product, action="deactivate", scope="matching", country="FR", confirm_count="13", shown_count="13")
    job = BulkJob.objects.get()
    assert job.filters["country"] == "FR" and job.described == "SIMs matching home country France"

    run_bulk_job(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.total, job.processed, job.changed, job.skipped_count, job.chunks_done) == ("done", 13, 13, 10, 3, 4)
    assert Sim.objects.filter(pk__in=[s.pk for s in active + suspended], state=State.SUSPENDED).count() == 13
    elsewhere.refresh_from_db()
    assert elsewhere.state == State.ACTIVE
    page = text_of(progress(owner_client, job))
    assert "Done. 10 SIMs changed, 3 skipped." in page
    assert "Skipped 3 Cannot deactivate: the SIM is suspended, and deactivate applies only to active, paused or provisioned SIMs. 3" in page
    assert SimEvent.objects.filter(action="deactivate").count() == 10


def test_the_progress_page_polls_while_the_job_runs_and_stops_when_it_is_done(owner_client, product, make_sim, small_jobs):
    for _ in range(11):
        make_sim(product)
    bulk(owner_client, product, action="deactivate", scope="matching", confirm_count="11", shown_count="11")
    job = BulkJob.objects.get()

    waiting = progress(owner_client, job)
    assert 'hx-trigger="every 1s"' in waiting.content.decode()
    assert "0 of 11 SIMs" in text_of(waiting) and "Waiting for a worker" in text_of(waiting)
    BulkJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now(), total=11, processed=4, changed=4)
    poll = progress(owner_client, job, htmx=True)
    assert "<html" not in poll.content.decode() and "4 of 11 SIMs" in text_of(poll) and "36%" in text_of(poll)

    run_bulk_job(job_id=job.pk)
    done = progress(owner_client, job, htmx=True)
    assert "every 1s" not in done.content.decode() and "100%" in text_of(done)


def test_a_double_submit_starts_one_job(owner_client, product, make_sim, small_jobs, django_capture_on_commit_callbacks):
    for _ in range(11):
        make_sim(product)
    form = {"action": "deactivate", "scope": "matching", "confirm_count": "11", "shown_count": "11", "submission": "f00d"}

    with django_capture_on_commit_callbacks(execute=True):
        first, second = bulk(owner_client, product, **form), bulk(owner_client, product, **form)

    job = BulkJob.objects.get()
    assert first["HX-Redirect"] == second["HX-Redirect"] == reverse("bulk_job", args=[product.slug, job.pk])
    assert queued_runs() == 1


def test_the_same_action_submitted_again_from_a_new_form_is_a_new_job(owner_client, product, make_sim, small_jobs):
    for _ in range(11):
        make_sim(product)
    bulk(owner_client, product, action="set_data_limit", data_limit_mb="9", scope="matching", submission="a")
    bulk(owner_client, product, action="set_data_limit", data_limit_mb="9", scope="matching", submission="b")
    assert BulkJob.objects.count() == 2



def test_a_used_form_asking_for_another_action_starts_nothing_and_says_to_reload(owner_client, product, make_sim, small_jobs):
    """The SIMs page back from the browser's history carries the token of a form already used."""
    for _ in range(11):
        make_sim(product)
    bulk(owner_client, product, action="unpause", scope="matching", submission="back")
    again = bulk(owner_client, product, action="set_data_limit", data_limit_mb="5", scope="matching", submission="back")
    assert again.status_code == 409
    first = BulkJob.objects.get()
    assert first.action == "unpause"
    assert f"this form already started bulk job #{first.pk}" in text_of(again) and "Reload the SIMs page" in text_of(again)


def test_a_confirmed_count_beyond_any_product_is_a_clear_400(owner_client, product, make_sim, small_jobs):
    for _ in range(11):
        make_sim(product)
    huge = "99999999999999999999"
    answer = bulk(owner_client, product, action="deactivate", scope="matching", shown_count=huge, confirm_count=huge, submission="big")
    assert answer.status_code == 400
    assert "more SIMs than a product holds" in text_of(answer) and not BulkJob.objects.exists()

class WorkerKilled(BaseException):
    """What a SIGKILL leaves: no except clause of the job's runs (nothing marks the job failed)."""


def test_a_job_killed_mid_way_resumes_after_its_last_chunk_and_acts_on_no_sim_twice(
    owner_client, product, make_sim, small_jobs, monkeypatch, django_capture_on_commit_callbacks
):
    sims = [make_sim(product, state=State.TERMINATED if n % 5 == 0 else State.ACTIVE) for n in range(14)]
    bulk(owner_client, product, action="terminate", confirm_terminate="on", scope="matching", confirm_count="14", shown_count="14")
    job = BulkJob.objects.get()
    real_change_sims, calls = bulk_jobs.change_sims, []

    def dies_in_the_third_chunk(**kwargs):
        calls.append(kwargs["sims"])
        result = real_change_sims(**kwargs)
        if len(calls) == 3:
            raise WorkerKilled  # after the chunk's changes, before its commit
        return result

    monkeypatch.setattr(bulk_jobs, "change_sims", dies_in_the_third_chunk)
    with pytest.raises(WorkerKilled):
        run_bulk_job(job_id=job.pk)

    stopped = BulkJob.objects.get(pk=job.pk)
    assert (stopped.status, stopped.chunks_done, stopped.processed, stopped.last_sim_id) == ("running", 2, 8, sims[7].pk)
    assert Sim.objects.filter(pk__in=[s.pk for s in sims[8:]], state=State.ACTIVE).count() == 5  # the third chunk rolled back
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_bulk_jobs", idle_minutes=0)
    assert BulkJob.objects.get(pk=job.pk).status == "queued" and queued_runs() == 1

    monkeypatch.setattr(bulk_jobs, "change_sims", real_change_sims)
    run_bulk_job(job_id=job.pk)
    run_bulk_job(job_id=job.pk)  # a second runner of a finished job does nothing

    done = BulkJob.objects.get(pk=job.pk)
    # 3 were terminated before: skipped once each. Re-running a committed chunk would have skipped its SIMs again.
    assert (done.status, done.processed, done.changed, done.skipped_count) == ("done", 14, 11, 3)
    assert done.skipped == {"Cannot terminate: the SIM is terminated, and a terminated SIM never changes again.": 3}
    assert not Sim.objects.filter(product=product).exclude(state=State.TERMINATED).exists()
    assert SimEvent.objects.filter(action="terminate").count() == 11
    assert sorted(SimEvent.objects.values_list("sim_id", flat=True)) == sorted(s.pk for s in sims if s.state == State.ACTIVE)


def test_a_failed_job_says_so_and_runs_on_when_resumed(owner_client, product, make_sim, small_jobs, monkeypatch):
    for _ in range(11):
        make_sim(product)
    bulk(owner_client, product, action="deactivate", scope="matching", confirm_count="11", shown_count="11")
    job = BulkJob.objects.get()
    real_change_sims = bulk_jobs.change_sims

    def database_gone(**kwargs):
        if BulkJob.objects.get(pk=job.pk).chunks_done == 1:
            raise RuntimeError("the database went away")
        return real_change_sims(**kwargs)

    monkeypatch.setattr(bulk_jobs, "change_sims", database_gone)
    with pytest.raises(RuntimeError):
        run_bulk_job(job_id=job.pk)
    page = text_of(progress(owner_client, job))
    assert "The job stopped: RuntimeError: the database went away." in page and "the 4 SIMs shown were committed" in page

    monkeypatch.setattr(bulk_jobs, "change_sims", real_change_sims)
    call_command("resume_bulk_jobs", idle_minutes=0)
    run_bulk_job(job_id=job.pk)
    done = BulkJob.objects.get(pk=job.pk)
    assert (done.status, done.processed, done.changed, done.skipped_count, done.error) == ("done", 11, 11, 0, "")


def test_when_the_sims_changed_between_the_typed_number_and_the_jobs_start_it_acts_on_none_and_says_so(
    owner_client, product, make_sim, small_jobs
):
    sims = [make_sim(product, home_country="FR") for _ in range(12)]
    bulk(owner_client, product, action="deactivate", scope="matching", country="FR", confirm_count="12", shown_count="12")
    Sim.objects.filter(pk=sims[0].pk).update(home_country="DE")  # moved home before the worker began

    job = run_bulk_job(job_id=BulkJob.objects.get().pk)

    assert (job.status, job.confirmed_count, job.total, job.changed) == ("refused", 12, 11, 0)
    page = text_of(progress(owner_client, job))
    assert "Refused. Nothing was changed: 11 SIMs match now, not the 12 you confirmed" in page
    assert "every 1s" not in progress(owner_client, job).content.decode()
    assert not Sim.objects.exclude(state=State.ACTIVE).exists() and not SimEvent.objects.exists()


def test_a_number_typed_to_match_a_forged_count_starts_a_job_that_refuses(owner_client, product, make_sim, small_jobs):
    for _ in range(30):
        make_sim(product)
    bulk(owner_client, product, action="terminate", confirm_terminate="on", scope="matching", confirm_count="11", shown_count="11")
    job = run_bulk_job(job_id=BulkJob.objects.get().pk)
    assert job.status == "refused" and not Sim.objects.filter(state=State.TERMINATED).exists()


def test_the_request_that_starts_a_job_counts_no_further_than_the_threshold(
    owner_client, product, make_sim, small_jobs, django_assert_max_num_queries
):
    for _ in range(40):
        make_sim(product)
    with CaptureQueriesContext(connection) as captured:
        bulk(owner_client, product, action="deactivate", scope="matching", confirm_count="40", shown_count="40")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"] and "sims_sim" in q["sql"]]
    assert counts and all("LIMIT 11" in sql for sql in counts), counts
    assert BulkJob.objects.get().confirmed_count == 40


def test_ticked_sims_above_the_threshold_are_a_job_too(owner_client, product, make_sim, small_jobs):
    ticked = [make_sim(product).pk for _ in range(11)]
    bulk(owner_client, product, action="remove", scope="selected", ids=ticked, confirm_count="11", shown_count="11")
    job = run_bulk_job(job_id=BulkJob.objects.get().pk)
    assert (job.described, job.changed) == ("the SIMs selected on the page", 11)
    assert not Sim.objects.filter(product=product).exists()


def test_starting_a_job_and_each_poll_cost_a_few_queries_whatever_the_sims(
    owner_client, product, make_sim, small_jobs, django_assert_max_num_queries
):
    for _ in range(40):
        make_sim(product)
    with django_assert_max_num_queries(12):
        response = bulk(owner_client, product, action="set_data_limit", data_limit_mb="9", scope="matching")
    assert response.status_code == 200 and "HX-Redirect" in response
    job = BulkJob.objects.get()
    with django_assert_max_num_queries(6):
        assert progress(owner_client, job, htmx=True).status_code == 200


def test_a_teammate_sees_the_job_and_an_outsider_gets_404(client, product, owner, teammate, outsider):
    job = BulkJob.objects.create(product=product, created_by=owner, submission="x", action="terminate", confirmed_count=20_000)
    client.force_login(teammate)
    assert progress(client, job).status_code == 200
    client.force_login(outsider)
    assert progress(client, job).status_code == 404
    assert progress(client, job, htmx=True).status_code == 404


def test_the_sims_page_links_to_the_jobs_under_way_and_just_ended(owner_client, product, owner):
    running = BulkJob.objects.create(
        product=product, created_by=owner, submission="a", action="terminate", confirmed_count=20_000,
        described="SIMs matching home country France", status="running", total=20_000, processed=5_000,
    )  # fmt: skip
    long_done = BulkJob.objects.create(
        product=product, created_by=owner, submission="b", action="deactivate", confirmed_count=20_000,
        status="done", finished_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    page = owner_client.get(reverse("sim_list", args=[product.slug])).content.decode()
    assert "Bulk job #%d</a>: Terminate on SIMs matching home country France, 25%%" % running.pk in page
    assert reverse("bulk_job", args=[product.slug, running.pk]) in page
    assert "Bulk job #%d<" % long_done.pk not in page


def test_without_htmx_starting_a_job_redirects_to_its_page(client, owner, product, make_sim, small_jobs):
    for _ in range(11):
        make_sim(product)
    client.force_login(owner)
    data = {"action": "deactivate", "scope": "matching", "confirm_count": "11", "shown_count": "11"}
    response = client.post(reverse("sims_bulk", args=[product.slug]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("bulk_job", args=[product.slug, BulkJob.objects.get().pk])
