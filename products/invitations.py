"""Invitations by email: a link that works once, for INVITATION_DAYS, until revoked or resent.

The link carries a random token; the table holds only its SHA-256, so reading the table gives no
working link. Accepting claims the row with one conditional UPDATE (pending -> accepted) in the
transaction that adds the member: a link clicked twice, or a form sent twice, joins once."""

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from products.models import Invitation, Membership, Product
from products.team import TeamError


class InvitationError(Exception):
    """The link cannot be used: `reason` is one of "unknown", "expired", "revoked", "accepted"."""

    def __init__(self, reason: str, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pending_invitations(product: Product) -> QuerySet[Invitation]:
    """Neither accepted nor revoked, newest first: expired ones too, so an admin can resend them."""
    return product.invitations.filter(accepted_at=None, revoked_at=None).select_related("invited_by")


def invite(*, product: Product, email: str, role: str, invited_by, link_for: Callable[[str], str]) -> Invitation:
    """Invite `email` and send the link (link_for(token) is its full address). An earlier pending
    invitation of the same address is replaced: its link stops working."""
    email = email.strip()
    member = product.memberships.filter(user__email__iexact=email).select_related("user").first()
    if member:
        raise TeamError(f"{email} is already in the team of {product.name} (as {member.user.get_username()}).")
    with transaction.atomic():
        _revoke_pending(product, email)
        invitation, token = _create(product=product, email=email, role=role, invited_by=invited_by)
    send_invitation(invitation, link_for(token))
    return invitation


def resend(*, invitation: Invitation, invited_by, link_for: Callable[[str], str]) -> Invitation:
    """A new link for the same address and role, with a new expiry; the old link stops working."""
    with transaction.atomic():
        _revoke_pending(invitation.product, invitation.email)
        fresh, token = _create(product=invitation.product, email=invitation.email, role=invitation.role, invited_by=invited_by)
    send_invitation(fresh, link_for(token))
    return fresh


def revoke(*, invitation: Invitation) -> bool:
    """Stop the link working; False when it had been accepted or revoked already."""
    return bool(
        Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(revoked_at=timezone.now())
    )


def usable_invitation(token: str) -> Invitation:
    """The invitation the link names, if it may still be accepted; otherwise InvitationError saying why."""
    invitation = Invitation.objects.select_related("product", "invited_by").filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationError("unknown")
    if invitation.accepted_at is not None:
        raise InvitationError("accepted", invitation)
    if invitation.revoked_at is not None:
        raise InvitationError("revoked", invitation)
    if invitation.is_expired:
        raise InvitationError("expired", invitation)
    return invitation


def account_for(invitation: Invitation):
    """The account that already has the invited address, if any."""
    return get_user_model().objects.filter(email__iexact=invitation.email).order_by("pk").first()


def accept(*, token: str, user) -> Membership:
    """`user` joins the product with the invitation's role (keeping a higher role they already have)."""
    with transaction.atomic():
        invitation = _claim(token, user)
        membership, created = Membership.objects.get_or_create(
            product=invitation.product, user=user, defaults={"role": invitation.role}
        )
        if not created and invitation.role == Membership.Role.ADMIN and not membership.is_admin:
            membership.role = Membership.Role.ADMIN
            membership.save(update_fields=["role"])
        return membership


def join_with_new_account(*, token: str, username: str, password: str) -> Membership:
    """A person without an account: make one with the invited address and this password, and join."""
    with transaction.atomic():
        invitation = usable_invitation(token)
        user = get_user_model().objects.create_user(username=username, email=invitation.email, password=password)
        _claim(token, user)
        return Membership.objects.create(product=invitation.product, user=user, role=invitation.role)


def _claim(token: str, user) -> Invitation:
    invitation = usable_invitation(token)
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at=None, revoked_at=None, created_at__gt=timezone.now() - timedelta(days=settings.INVITATION_DAYS)
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        # Accepted, revoked or expired since it was read: say which.
        invitation.refresh_from_db()
        raise InvitationError("accepted" if invitation.accepted_at else "revoked" if invitation.revoked_at else "expired", invitation)
    return invitation


def _revoke_pending(product: Product, email: str) -> None:
    product.invitations.filter(email__iexact=email, accepted_at=None, revoked_at=None).update(revoked_at=timezone.now())


def _create(*, product: Product, email: str, role: str, invited_by) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        product=product, email=email, role=role, invited_by=invited_by, token_hash=hash_token(token)
    )
    return invitation, token


def send_invitation(invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "link": link, "inviter": invitation.invited_by, "days": settings.INVITATION_DAYS}
    send_mail(
        # One line whatever the product's name holds (a header with a line break is refused).
        subject=" ".join(render_to_string("products/email/invitation_subject.txt", context).split()),
        message=render_to_string("products/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
