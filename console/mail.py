"""The mailer of a console without a mail server (./run): each message printed as plain text.

Django's console mailer prints the encoded message, where quoted-printable cuts a long line with
`=` at 76 characters: an invitation or password-reset link could not be copied from the terminal.
This one prints the headers a reader needs and the text body as written, each link whole."""

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend


class PlainTextConsoleBackend(EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        headers = {"From": message.from_email, "To": ", ".join(message.to), "Subject": message.subject}
        for name, value in headers.items():
            self.stream.write(f"{name}: {value}\n")
        self.stream.write(f"\n{message.body}\n")
        self.stream.write("-" * 79 + "\n")
