from django.urls import reverse

from products.models import Membership
from tests.conftest import make_user, text_of


def team_post(client, product, name, data=None, member=None, htmx=False):
    args = [product.slug] + ([member.pk] if member else [])
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse(name, args=args), data or {}, headers=headers)


def test_everyone_in_the_team_sees_the_members(teammate_client, product, owner, teammate):
    page = text_of(teammate_client.get(reverse("team", args=[product.slug])))
    assert "owner" in page and "teammate (you)" in page
    assert "Only product admins can change the team." in page


def test_an_admin_adds_a_member_by_username_or_email(owner_client, product):
    make_user("dana")
    make_user("erin")
    team_post(owner_client, product, "team_add", {"username_or_email": "dana", "role": "member"})
    team_post(owner_client, product, "team_add", {"username_or_email": "ERIN@example.com", "role": "admin"})
    roles = dict(product.memberships.values_list("user__username", "role"))
    assert roles["dana"] == "member" and roles["erin"] == "admin"


def test_adding_someone_unknown_or_already_in_says_why(owner_client, product, teammate):
    response = team_post(owner_client, product, "team_add", {"username_or_email": "ghost", "role": "member"}, htmx=True)
    assert response.status_code == 400
    assert "No one has the username or email 'ghost'" in text_of(response)
    response = team_post(owner_client, product, "team_add", {"username_or_email": "teammate", "role": "member"}, htmx=True)
    assert "teammate is already in the team" in text_of(response)
    assert product.memberships.count() == 2


def test_an_admin_changes_a_role(owner_client, product, teammate):
    membership = Membership.objects.get(user=teammate)
    team_post(owner_client, product, "team_role", {"role": "admin"}, member=membership)
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_the_last_admin_can_be_neither_demoted_nor_removed(owner_client, product, owner):
    membership = Membership.objects.get(user=owner)
    response = team_post(owner_client, product, "team_role", {"role": "member"}, member=membership, htmx=True)
    assert "owner is the last admin of Acme Trackers and cannot be made a member" in text_of(response)
    response = team_post(owner_client, product, "team_remove", member=membership, htmx=True)
    assert "cannot be removed" in text_of(response)
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_an_admin_removes_a_member(owner_client, product, teammate):
    membership = Membership.objects.get(user=teammate)
    team_post(owner_client, product, "team_remove", member=membership)
    assert not product.memberships.filter(user=teammate).exists()


def test_an_admin_who_leaves_is_sent_home(owner_client, product, owner, teammate):
    Membership.objects.filter(user=teammate).update(role="admin")
    response = team_post(owner_client, product, "team_remove", {"confirm": "1"}, member=Membership.objects.get(user=owner), htmx=True)
    assert response["HX-Redirect"] == reverse("home")


def test_a_member_cannot_change_the_team(teammate_client, product, owner):
    admin = Membership.objects.get(user=owner)
    assert team_post(teammate_client, product, "team_role", {"role": "member"}, member=admin).status_code == 403
    assert team_post(teammate_client, product, "team_remove", member=admin).status_code == 403
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_a_member_of_another_product_cannot_be_touched_through_ours(owner_client, product, outsider):
    theirs = Membership.objects.get(user=outsider)
    assert team_post(owner_client, product, "team_remove", member=theirs).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_a_bad_role_is_refused(owner_client, product, teammate):
    membership = Membership.objects.get(user=teammate)
    response = team_post(owner_client, product, "team_role", {"role": "emperor"}, member=membership, htmx=True)
    assert "Choose a role" in text_of(response)
    membership.refresh_from_db()
    assert membership.role == "member"


def test_demoting_yourself_asks_once_then_does_it(owner_client, product, owner, teammate):
    Membership.objects.filter(user=teammate).update(role="admin")
    mine = Membership.objects.get(user=owner)
    asked = team_post(owner_client, product, "team_role", {"role": "member"}, member=mine, htmx=True)
    page = text_of(asked)
    assert "Make yourself a member?" in page and "Yes, make me a member" in page
    mine.refresh_from_db()
    assert mine.role == "admin"  # nothing changed until confirmed
    team_post(owner_client, product, "team_role", {"role": "member", "confirm": "1"}, member=mine)
    mine.refresh_from_db()
    assert mine.role == "member"


def test_leaving_the_product_asks_once_then_does_it(owner_client, product, owner, teammate):
    Membership.objects.filter(user=teammate).update(role="admin")
    mine = Membership.objects.get(user=owner)
    asked = team_post(owner_client, product, "team_remove", member=mine)
    assert asked.status_code == 200 and "Leave Acme Trackers?" in text_of(asked)
    assert Membership.objects.filter(pk=mine.pk).exists()
    left = team_post(owner_client, product, "team_remove", {"confirm": "1"}, member=mine)
    assert left["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=mine.pk).exists()


def test_changing_someone_else_needs_no_confirmation(owner_client, product, teammate):
    theirs = Membership.objects.get(user=teammate)
    team_post(owner_client, product, "team_role", {"role": "admin"}, member=theirs)
    team_post(owner_client, product, "team_role", {"role": "member"}, member=theirs)
    theirs.refresh_from_db()
    assert theirs.role == "member"


def test_the_last_admin_is_refused_before_any_confirmation_is_asked(owner_client, product, owner):
    mine = Membership.objects.get(user=owner)
    for data, name in (({"role": "member"}, "team_role"), ({}, "team_remove")):
        page = text_of(team_post(owner_client, product, name, data, member=mine, htmx=True))
        assert "owner is the last admin of Acme Trackers" in page
        assert "Yes, make me a member" not in page and "Leave Acme Trackers?" not in page
    confirmed = team_post(owner_client, product, "team_role", {"role": "member", "confirm": "1"}, member=mine, htmx=True)
    assert "cannot be made a member" in text_of(confirmed)
    mine.refresh_from_db()
    assert mine.role == "admin"


def test_adding_an_unknown_person_points_to_an_invitation(owner_client, product):
    response = team_post(owner_client, product, "team_add", {"username_or_email": "ghost@example.net", "role": "member"}, htmx=True)
    assert "or invite them by email" in text_of(response)
    assert "get an account first" not in text_of(response)
