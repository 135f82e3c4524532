"""See what it would have done: the form as typed, replayed over the last 30 days, beside the form; for a saved
rule compared with its saved version. Nothing is saved; a wrong form says what is wrong and keeps the input."""

from datetime import timedelta

from django.urls import reverse

from rules.models import Rule
from tests.conftest import text_of
from tests.rules.conftest import ingest, usage
from tests.rules.test_editor import HEAVY_DAY, _value_of


def _heavy_days(product, make_sim, now, *, mb: float, sims: int = 2) -> None:
    """`sims` SIMs each using `mb` MB on the two days before `now` (itself two days ago)."""
    for _ in range(sims):
        sim = make_sim(product)
        for days in (1, 2):
            ingest(usage(sim, mb, now - timedelta(days=days)), now=now)


def test_a_new_rule_shows_what_it_would_have_done_and_saves_nothing(owner_client, roomy_product, make_sim, now, django_assert_max_num_queries):
    _heavy_days(roomy_product, make_sim, now, mb=90)
    url = reverse("rule_preview_new", args=[roomy_product.slug])
    with django_assert_max_num_queries(16):
        response = owner_client.post(url, HEAVY_DAY | {"form_token": "7b0c6f0e-2f7e-4a43-9d55-2b3f1c4b2a10"})
    assert response.status_code == 200
    page = text_of(response)
    assert "In the last 30 days it would have fired 4 times , on 2 SIMs" in page
    assert "When a SIM uses more than 50 MB in a day, pause it and email the admins." in page
    assert _value_of(response, "name") == "Heavy day"
    assert not Rule.objects.exists()

    higher = text_of(owner_client.post(url, HEAVY_DAY | {"condition-usage_day-mb": "500"}))
    assert "In the last 30 days it would have fired 0 times" in higher


def test_a_changed_rule_is_compared_with_the_saved_version(owner_client, roomy_product, make_sim, make_rule, now):
    _heavy_days(roomy_product, make_sim, now, mb=90)
    rule = make_rule()
    response = owner_client.post(reverse("rule_preview", args=[roomy_product.slug, rule.pk]), HEAVY_DAY | {"condition-usage_day-mb": "500", "version": "1"})
    page = text_of(response)
    assert "4 fewer pauses than the current version" in page
    rule.refresh_from_db()
    assert (rule.version, rule.condition) == (1, {"mb": 50})


def test_a_wrong_form_is_not_replayed_and_says_what_is_wrong(owner_client, roomy_product):
    response = owner_client.post(reverse("rule_preview_new", args=[roomy_product.slug]), HEAVY_DAY | {"condition-usage_day-mb": "-3"})
    assert response.status_code == 400
    page = text_of(response)
    assert "The amount of data must be more than 0 MB" in page and "would have fired" not in page
    assert _value_of(response, "condition-usage_day-mb") == "-3"


def test_htmx_gets_the_form_card_and_a_member_is_refused(client, owner, teammate, roomy_product):
    url = reverse("rule_preview_new", args=[roomy_product.slug])
    client.force_login(owner)
    response = client.post(url, HEAVY_DAY, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="rule-editor"' in body and "<html" not in body
    client.force_login(teammate)
    assert client.post(url, HEAVY_DAY).status_code == 403
