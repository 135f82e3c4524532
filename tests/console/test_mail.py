"""Under ./run (no EMAIL_HOST) an email is printed to the terminal: its links must be whole there."""

from io import StringIO

from django.core.mail import EmailMessage

from console.mail import PlainTextConsoleBackend


def test_a_long_link_is_printed_whole_on_one_line():
    link = "http://127.0.0.1:8000/invitations/" + "x" * 100 + "-0123456789/?utm=" + "y" * 100
    link = link[:150]
    assert len(link) == 150
    stream = StringIO()
    message = EmailMessage(
        subject="owner invited you to Acme Trackers", body=f"Join the team:\n\n{link}\n\nThe link works once.",
        from_email="SIM Console <sim-console@localhost>", to=["dana@example.net"],
    )  # fmt: skip
    assert PlainTextConsoleBackend(stream=stream).send_messages([message]) == 1
    printed = stream.getvalue()
    assert link in printed.splitlines()
    assert "To: dana@example.net" in printed and "Subject: owner invited you to Acme Trackers" in printed

