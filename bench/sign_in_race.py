"""Parallel sign-in guesses against a running console: how many wrong passwords get checked, and
whether the right one still signs in after them (issue 13, item 10).

Standalone, not part of the pytest run. Each attempt is its own browser session (its own CSRF
cookie, fetched first); then the attempts are posted `--gap-ms` apart, each from its own thread:
all wrong guesses, the right password last. Against gunicorn with several workers and the
production password hasher (0.5-1 s a check), a count made after the check lets every attempt
that arrives during the first hashes through.

    .venv/bin/python bench/sign_in_race.py --url http://127.0.0.1:8765 --username racer --password right-one
"""

import argparse
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session(url: str) -> tuple[urllib.request.OpenerDirector, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(f"{url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return opener, token


def post(url: str, opener: urllib.request.OpenerDirector, token: str, username: str, password: str) -> str:
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password}).encode()
    request = urllib.request.Request(f"{url}/accounts/login/", data=data, headers={"Referer": f"{url}/accounts/login/"})
    try:
        status = opener.open(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    return {200: "wrong", 302: "signed in", 429: "refused"}.get(status, str(status))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True, help="the right password, sent last")
    parser.add_argument("--attempts", type=int, default=16)
    parser.add_argument("--gap-ms", type=int, default=30)
    args = parser.parse_args()

    passwords = [f"wrong-{number}" for number in range(args.attempts - 1)] + [args.password]
    sessions = [session(args.url) for _ in passwords]
    start = time.monotonic() + 0.5
    outcomes: list[str] = [""] * len(passwords)

    def attempt(number: int) -> None:
        time.sleep(max(0.0, start + number * args.gap_ms / 1000 - time.monotonic()))
        outcomes[number] = post(args.url, *sessions[number], args.username, passwords[number])

    with ThreadPoolExecutor(len(passwords)) as pool:
        list(pool.map(attempt, range(len(passwords))))
    print(" ".join(outcomes))
    wrong = outcomes[:-1].count("wrong")
    # The guess that uses up the limit is checked and answers 429 too.
    print(f"answered as wrong: {wrong}; refused (429): {outcomes.count('refused')}; the right password, last: {outcomes[-1]}")


if __name__ == "__main__":
    main()
