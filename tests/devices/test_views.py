"""The devices pages: the list with search and pages, a device's page with its form, its SIM and its
history, a new device; and the SIM page and SIM list naming the device each SIM is in."""

import pytest
from django.urls import reverse

from devices.assignment import assign_sim
from devices.models import Device, DeviceAssignment
from devices.tac import luhn_digit
from sims.models import Sim
from tests.conftest import make_iccid, text_of

IMEI = "35283410000001" + luhn_digit("35283410000001")


@pytest.fixture
def device(product):
    return Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="boiler-room", imei=IMEI, model="Quectel BG96", tags=["basement", "pilot"])


def list_url(product, **params):
    from urllib.parse import urlencode

    return reverse("device_list", args=[product.slug]) + ("?" + urlencode(params) if params else "")


def test_the_devices_tab_lists_each_device_with_its_sim_model_and_tags(teammate_client, product, device, sim):
    assign_sim(sim=sim, device=device, source="hand")
    Device.objects.create(product=product, device_id="spare-1", name="spare")
    page = text_of(teammate_client.get(list_url(product)))
    assert "Devices 2" in page
    assert "boiler-room" in page and sim.iccid in page and "Quectel BG96" in page and "basement" in page and "pilot" in page
    assert "spare spare-1 none" in page


@pytest.mark.parametrize("query", ["boiler", "E00FCE681F", IMEI[:10], "basem"])
def test_search_finds_by_name_device_id_imei_or_tag(teammate_client, product, device, query):
    Device.objects.create(product=product, device_id="other-1", name="attic", tags=["roof"])
    page = text_of(teammate_client.get(list_url(product, q=query)))
    assert "boiler-room" in page and "attic" not in page


def test_a_search_matching_nothing_says_so(teammate_client, product, device):
    page = text_of(teammate_client.get(list_url(product, q="cellar")))
    assert "No device matches “cellar”" in page


def test_the_list_pages_and_its_queries_do_not_grow_with_the_page(teammate_client, product, settings, make_sim, django_assert_max_num_queries):
    settings.DEVICES_PER_PAGE = 20
    for n in range(45):
        device = Device.objects.create(product=product, device_id=f"dev-{n:03d}", name=f"tracker {n:03d}")
        assign_sim(sim=make_sim(product), device=device, source="hand")
    # session, user, membership, the count, the page, the page's SIMs
    with django_assert_max_num_queries(6):
        response = teammate_client.get(list_url(product, page=3))
    page = text_of(response)
    assert "tracker 040" in page and "tracker 039" not in page and "Page 3 of 3" in page


def test_a_device_page_shows_its_details_sim_and_history(teammate_client, product, device, make_sim, owner, django_assert_max_num_queries):
    old, new = make_sim(product), make_sim(product)
    assign_sim(sim=old, device=device, source="network")
    assign_sim(sim=new, device=device, source="hand", by_user=owner)
    with django_assert_max_num_queries(7):
        response = teammate_client.get(reverse("device_detail", args=[product.slug, device.pk]))
    page = text_of(response)
    assert "e00fce681f2d0c1e5b3a4c2d" in page and IMEI in page
    assert f"The SIM {new.iccid} is in this device" in page
    assert old.iccid in page and "Network attach" in page and "Set by hand by owner" in page


def test_a_member_puts_a_sim_in_by_iccid_and_takes_it_out(teammate_client, teammate, product, device, sim):
    url = reverse("device_assign", args=[product.slug, device.pk])
    response = teammate_client.post(url, {"iccid": sim.iccid}, follow=True)
    assert f"The SIM {sim.iccid} is in boiler-room now." in text_of(response)
    sim.refresh_from_db()
    assert sim.device == device and DeviceAssignment.objects.get().by_user == teammate
    response = teammate_client.post(reverse("device_release", args=[product.slug, device.pk]), follow=True)
    assert "is out of boiler-room" in text_of(response)
    sim.refresh_from_db()
    assert sim.device is None and DeviceAssignment.objects.get().ended_at is not None


def test_putting_a_sim_of_another_device_in_moves_it_and_says_so(teammate_client, product, device, sim):
    attic = Device.objects.create(product=product, device_id="attic-1", name="attic")
    assign_sim(sim=sim, device=attic, source="hand")
    response = teammate_client.post(reverse("device_assign", args=[product.slug, device.pk]), {"iccid": sim.iccid}, follow=True)
    assert f"The SIM {sim.iccid} moved from attic to boiler-room." in text_of(response)


@pytest.mark.parametrize(
    ("iccid", "words"),
    [("89abc", "only digits"), ("", "This field is required"), ("8901260000000000999", "No SIM 8901260000000000999 in Acme Trackers")],
)
def test_a_bad_iccid_is_refused_saying_why(teammate_client, product, device, iccid, words):
    response = teammate_client.post(reverse("device_assign", args=[product.slug, device.pk]), {"iccid": iccid})
    assert response.status_code == 400 and words in text_of(response)
    assert not DeviceAssignment.objects.exists()


def test_a_sim_of_another_product_is_not_found(teammate_client, product, other_product, device, make_sim):
    theirs = make_sim(other_product)
    response = teammate_client.post(reverse("device_assign", args=[product.slug, device.pk]), {"iccid": theirs.iccid})
    assert response.status_code == 400 and f"No SIM {theirs.iccid} in Acme Trackers" in text_of(response)


def test_creating_a_device_names_its_model_from_the_imei(teammate_client, product):
    response = teammate_client.post(
        reverse("device_new", args=[product.slug]), {"device_id": "sn-1001", "name": "pump 7", "imei": IMEI, "model": "", "tags": "pilot, pilot, field"}
    )
    device = Device.objects.get(device_id="sn-1001")
    assert response["Location"] == reverse("device_detail", args=[product.slug, device.pk])
    assert device.model == "Quectel BG96" and device.tags == ["pilot", "field"] and device.product == product


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"device_id": "", "imei": ""}, "Give the device an ID"),
        ({"device_id": "e00fce681f2d0c1e5b3a4c2d"}, "Another device of this product has the ID"),
        ({"device_id": "x", "imei": "35283410000001" + str((int(IMEI[-1]) + 1) % 10)}, "fails its check digit"),
        ({"device_id": "x", "imei": "1234"}, "has 4 digits"),
    ],
)
def test_a_bad_device_is_refused_saying_what_to_fix(teammate_client, product, device, data, words):
    response = teammate_client.post(reverse("device_new", args=[product.slug]), {"name": "", "model": "", "tags": "", "imei": "", **data})
    assert response.status_code == 400 and words in text_of(response)
    assert Device.objects.count() == 1


def test_editing_a_device_saves_it_and_a_bad_edit_changes_nothing(teammate_client, product, device):
    url = reverse("device_edit", args=[product.slug, device.pk])
    bad = teammate_client.post(url, {"device_id": device.device_id, "name": "renamed", "imei": "12", "model": "", "tags": ""})
    assert bad.status_code == 400
    device.refresh_from_db()
    assert device.name == "boiler-room"
    teammate_client.post(url, {"device_id": device.device_id, "name": "renamed", "imei": IMEI, "model": "Custom board", "tags": "a"})
    device.refresh_from_db()
    assert device.name == "renamed" and device.model == "Custom board" and device.tags == ["a"]


def test_an_outsider_gets_404_for_another_products_device(outsider_client, product, device):
    for name in ("device_detail", "device_assign", "device_release", "device_edit"):
        url = reverse(name, args=[product.slug, device.pk])
        response = outsider_client.get(url) if name == "device_detail" else outsider_client.post(url, {"iccid": "1"})
        assert response.status_code == 404


def test_a_device_of_another_product_is_404_under_this_one(teammate_client, product, other_product):
    theirs = Device.objects.create(product=other_product, device_id="x")
    assert teammate_client.get(reverse("device_detail", args=[product.slug, theirs.pk])).status_code == 404


def test_the_sim_page_names_and_links_its_device(teammate_client, product, device, sim):
    assign_sim(sim=sim, device=device, source="hand")
    response = teammate_client.get(reverse("sim_detail", args=[product.slug, sim.iccid]))
    assert reverse("device_detail", args=[product.slug, device.pk]) in response.content.decode()
    assert "Device boiler-room (Quectel BG96)" in text_of(response)


def test_the_sim_list_names_each_sims_device_in_no_more_queries(teammate_client, product, settings, django_assert_max_num_queries):
    settings.SIMS_PER_PAGE = 30
    sims = Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, home_country="US") for _ in range(30)])
    for n, sim in enumerate(sims[::3]):
        assign_sim(sim=sim, device=Device.objects.create(product=product, device_id=f"d{n}", name=f"tracker {n}"), source="hand")
    for sort in ("", "-usage", "-changed"):
        # as tests/sims/test_views.py counts the list without devices (its rows' connectivity included): the
        # device comes in the rows' query
        with django_assert_max_num_queries(11 if "usage" in sort else 10):
            response = teammate_client.get(reverse("sim_list", args=[product.slug]) + (f"?sort={sort}" if sort else ""))
        page = response.content.decode()
        assert page.count(">tracker ") == 10


def test_the_admin_shows_devices_and_their_history_read_only(client, product, device, sim):
    from django.contrib.auth import get_user_model

    assign_sim(sim=sim, device=device, source="hand")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get(reverse("admin:devices_device_change", args=[device.pk])).content.decode()
    assert sim.iccid in page
    assignment = DeviceAssignment.objects.get()
    assert client.get(reverse("admin:devices_deviceassignment_changelist") + f"?q={sim.iccid}").status_code == 200
    client.post(reverse("admin:devices_deviceassignment_change", args=[assignment.pk]), {"ended_at_0": "2026-01-01"})
    assignment.refresh_from_db()
    assert assignment.ended_at is None
