import codecs
import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.importing import run_import
from imports.models import ImportJob
from sims.models import Sim, State
from tests.conftest import make_iccid, text_of

HTMX = {"HX-Request": "true"}


def url(name: str, product, *args) -> str:
    return reverse(name, args=[product.slug, *args])


def test_each_typed_iccid_gets_a_verdict(owner_client, product, other_product, owner, make_sim):
    mine = make_sim(None, owner_user=owner)
    already = make_sim(product)
    theirs = make_sim(other_product)
    queued = make_iccid()
    new = make_iccid()
    text = ", ".join([new, mine.iccid, already.iccid, theirs.iccid, queued, "8901"])
    page = text_of(owner_client.post(url("import_check", product), {"text": text, "iccid": [queued]}, headers=HTMX))
    assert f"{new} Ready to activate" in page
    assert f"{mine.iccid} In your developer account: will be transferred" in page
    assert f"{already.iccid} Already in this product: will be skipped" in page
    # Another's SIM previews as one nobody holds: both are checked with the carrier at import (imports/claims.py).
    assert f"{theirs.iccid} Ready to activate" in page
    assert f"{queued} Already in the queue" in page
    assert "8901 has 4 digits" in page


def test_a_typed_line_without_an_iccid_is_answered(owner_client, product):
    page = text_of(owner_client.post(url("import_check", product), {"text": "hello"}, headers=HTMX))
    assert "No ICCID found" in page


def test_the_paste_boxs_example_iccids_pass_every_check(owner_client, product):
    import html
    import re

    from sims.iccid import validate_iccid

    page = owner_client.get(url("import_start", product)).content.decode()
    placeholder = html.unescape(re.search(r'<textarea[^>]*id="paste-iccids"[^>]*placeholder="([^"]*)"', page)[1])
    examples = placeholder.split()
    assert len(examples) == 2
    assert [validate_iccid(example) for example in examples] == examples  # InvalidIccid names the broken rule


def upload(client, product, name: str, data: bytes):
    return client.post(url("import_file", product), {"file": SimpleUploadedFile(name, data)}, headers=HTMX)


def test_a_dropped_file_is_summarised_and_kept_as_a_draft(owner_client, product):
    good = [make_iccid() for _ in range(3)]
    data = codecs.BOM_UTF16_LE + "\r\n".join([*good, "junk", good[0], "8901"]).encode("utf-16-le")
    response = upload(owner_client, product, "sims.txt", data)
    page = text_of(response)
    assert response.status_code == 200
    assert "sims.txt : 6 lines" in page and "3 valid ICCIDs" in page and "1 invalid" in page
    assert "1 repeated" in page and "1 without an ICCID" in page
    job = ImportJob.objects.get()
    assert (job.status, job.input_filename) == ("draft", "sims.txt")


def test_bad_files_are_refused_with_a_reason_and_kept_nowhere(owner_client, product, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    cases = [
        ("empty.txt", b"", "empty.txt is empty", 400),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not text", 400),
        ("huge.txt", b"8" * (1024 * 1024 + 1), "the limit is 1 MB", 413),
    ]
    for name, data, says, status in cases:
        response = upload(owner_client, product, name, data)
        assert response.status_code == status, name
        assert says in text_of(response), name
    response = owner_client.post(url("import_file", product), {}, headers=HTMX)
    assert "Choose a .txt file" in text_of(response)
    assert not ImportJob.objects.exists()


def test_continue_review_confirm_and_watch_it_finish(owner_client, product, owner, make_sim, django_capture_on_commit_callbacks):
    typed = [make_iccid(), make_iccid()]
    mine = make_sim(None, owner_user=owner)
    response = owner_client.post(url("import_start", product), {"iccid": [*typed, mine.iccid]})
    job = ImportJob.objects.get()
    assert response["Location"] == url("import_job", product, job.pk)

    review = text_of(owner_client.get(response["Location"]))
    assert "New SIMs to activate 2" in review
    assert "to be transferred and activated 1" in review
    assert "Data overage already used this month is charged at once" in review

    price = text_of(owner_client.get(url("import_quote", product, job.pk), {"country": "BR", "sims": "3"}, headers=HTMX))
    assert "Zone 2" in price and "$3.99" in price and "Activating 3 SIMs charges" in price

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owner_client.post(url("import_confirm", product, job.pk), {"country": "BR"})
    assert len(callbacks) == 1  # the task is enqueued once the confirmation commits
    run_import(job_id=job.pk)

    progress = owner_client.get(url("import_job", product, job.pk), headers=HTMX)
    page = text_of(progress)
    assert "Done" in page and "3 of 3 ICCIDs" in page and "100%" in page
    assert 'hx-trigger="every 1s"' not in progress.content.decode()  # finished: polling stops
    assert Sim.objects.filter(product=product, state=State.ACTIVE, home_country="BR").count() == 3

    csv = b"".join(owner_client.get(url("import_outcomes_csv", product, job.pk)).streaming_content).decode()
    assert csv.splitlines()[0] == "source,line,input,iccid,outcome,reason"
    assert f"typed,3,{mine.iccid},{mine.iccid},transferred" in csv


def test_the_outcomes_csv_makes_every_rejected_line_inert(owner_client, product):
    hostile = ["=HYPERLINK(\"http://x\")", "\t=1+2", "@SUM(A1)", "+1", "-2 SIMs", "=8901"]
    upload(owner_client, product, "sims.txt", "\n".join(hostile).encode())
    job = ImportJob.objects.get()
    text = b"".join(owner_client.get(url("import_outcomes_csv", product, job.pk)).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [row[2] for row in rows] == ["'" + line for line in hostile]
    assert [row[1] for row in rows] == ["1", "2", "3", "4", "5", "6"]  # line numbers stay numbers


def test_a_running_import_polls_and_shows_time_left(owner_client, product, owner):
    job = ImportJob.objects.create(product=product, created_by=owner, status="running", valid=100, processed=25, typed_text="x")
    from django.utils import timezone

    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timezone.timedelta(seconds=30))
    response = owner_client.get(url("import_job", product, job.pk), headers=HTMX)
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert "25% · about 2 min left" in text_of(response)


def test_confirming_needs_a_country_and_happens_once(owner_client, product, owner):
    job = ImportJob.objects.create(product=product, created_by=owner, typed_text=make_iccid(), valid=1)
    page = text_of(owner_client.post(url("import_confirm", product, job.pk), {"country": "ZZ"}, follow=True))
    assert "Choose the home country" in page
    owner_client.post(url("import_confirm", product, job.pk), {"country": "US"})
    page = text_of(owner_client.post(url("import_confirm", product, job.pk), {"country": "US"}, follow=True))
    assert "already confirmed" in page
    assert ImportJob.objects.get().status == "queued"


def test_an_empty_queue_cannot_continue(owner_client, product):
    page = text_of(owner_client.post(url("import_start", product), {}, follow=True))
    assert "The queue is empty" in page


def test_another_products_import_is_404_even_for_a_member_of_both(owner_client, product, other_product, owner):
    from products.models import Membership

    Membership.objects.create(user=owner, product=other_product, role="admin")
    theirs = ImportJob.objects.create(product=other_product, created_by=owner, typed_text=make_iccid(), valid=1)
    assert owner_client.get(url("import_job", product, theirs.pk)).status_code == 404
    assert owner_client.get(url("import_outcomes_csv", product, theirs.pk)).status_code == 404
    assert owner_client.post(url("import_confirm", product, theirs.pk), {"country": "US"}).status_code == 404


def test_a_teammates_draft_file_cannot_be_taken_over(teammate_client, product, owner):
    draft = ImportJob.objects.create(product=product, created_by=owner)
    response = teammate_client.post(url("import_start", product), {"job": draft.pk, "iccid": [make_iccid()]})
    assert response.status_code == 404


def test_the_quote_of_a_fleet_billed_by_peak_sims_says_nothing_is_charged_now(owner_client, product, owner):
    from billing.models import RateZone
    from products.models import PricingModel

    product.pricing_model, product.plan_zone = PricingModel.POOLED, RateZone.objects.get(code="Z1")
    product.save()
    job = ImportJob.objects.create(product=product, created_by=owner, valid=2)
    price = text_of(owner_client.get(url("import_quote", product, job.pk), {"country": "BR", "sims": "2"}, headers=HTMX))
    assert "This product is on Pooled inclusive volume : nothing is charged now" in price
    assert "$2.50 a month, adding 10 MB to the pool" in price
    assert "Data outside the plan's zone (Z1) $0.35 per MB in Z2" in price
    assert "Activating" not in price
