"""The simulated team members of bench/load.py (run by it: `locust -f bench/load_locustfile.py --headless`).

Each user signs in with a real session (the sign-in form, its CSRF token, a password), then browses,
filters and acts with a think time between clicks: the SIMs page with the three requests its header
makes (count, active SIMs, monthly cost), an ICCID fragment search, the state filter, the next page,
a SIM's page, the row menu, a single-SIM deactivate/reactivate, a bulk action on a small filtered
selection (one block of ~14 consecutive SIMs), the billing page with its lazy period lines, and the import's progress.

Everything the users need comes from the JSON file named by LOAD_CONFIG; every request is logged
(end time, name, ms, status) to LOAD_LOG, from which bench/load.py computes its figures.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

from locust import HttpUser, between, events, task

CONFIG = json.loads(Path(os.environ["LOAD_CONFIG"]).read_text())
SLUG = CONFIG["slug"]
BASE = f"/products/{SLUG}"
HTMX = {"HX-Request": "true"}
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "sim-table"}
ICCID_LINK = re.compile(rf'{BASE}/sims/(89\d{{17,18}})/')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SHOWN_COUNT = re.compile(r'name="shown_count" value="(\d+)"')
_log = Path(os.environ["LOAD_LOG"]).open("a", buffering=1 << 16)
_usernames = iter(CONFIG["usernames"])


@events.request.add_listener
def log_request(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    _log.write(f"{time.time():.3f},{name},{response_time:.1f},{status},{1 if exception else 0}\n")


@events.quitting.add_listener
def flush_log(**kwargs):
    _log.flush()


class TeamMember(HttpUser):
    low, high = CONFIG["think_seconds"]
    wait_time = between(low, high)

    def on_start(self) -> None:
        self.username = next(_usernames)
        index = CONFIG["usernames"].index(self.username)
        # Each member acts on their own SIMs and blocks (others may still meet them in the list).
        self.my_sims = CONFIG["action_sims"][index :: len(CONFIG["usernames"])]
        self.my_blocks = CONFIG["bulk_blocks"][index :: len(CONFIG["usernames"])]
        self.deactivated: set[str] = set()
        self.blocks_deactivated: set[str] = set()
        self.seen = list(CONFIG["sample_iccids"])
        self.last_on_page = None
        self.sign_in()

    def sign_in(self) -> None:
        page = self.client.get("/accounts/login/", name="sign-in form")
        token = CSRF_INPUT.search(page.text).group(1)
        self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": CONFIG["password"], "csrfmiddlewaretoken": token},
            allow_redirects=False,
            name="sign in",
        )

    def csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    def remember(self, html: str) -> None:
        found = ICCID_LINK.findall(html)
        if found:
            self.seen = found[:50]
            self.last_on_page = found[-1]

    @task(5)
    def sims_page(self) -> None:
        response = self.client.get(f"{BASE}/sims/", name="SIMs page")
        self.remember(response.text)
        # The header's lazy fragments, fetched by htmx as soon as the page is shown.
        self.client.get(f"{BASE}/sims/count/", headers=HTMX, name="count fragment")
        self.client.get(f"{BASE}/sims/active/", headers=HTMX, name="active SIMs fragment")
        self.client.get(f"{BASE}/sims/cost/", headers=HTMX, name="monthly cost fragment")

    @task(2)
    def next_page(self) -> None:
        if self.last_on_page is None:
            return self.sims_page()
        response = self.client.get(f"{BASE}/sims/?after={self.last_on_page}", headers=HTMX_TABLE, name="next page")
        self.remember(response.text)

    @task(3)
    def search(self) -> None:
        fragment = random.choice(CONFIG["fragments"])
        response = self.client.get(f"{BASE}/sims/?q={fragment}", headers=HTMX_TABLE, name="ICCID search")
        self.remember(response.text)
        self.client.get(f"{BASE}/sims/count/?q={fragment}", headers=HTMX, name="count fragment")

    @task(2)
    def state_filter(self) -> None:
        state = random.choice(["suspended", "active", "issued", "terminated"])
        response = self.client.get(f"{BASE}/sims/?state={state}", headers=HTMX_TABLE, name="state filter")
        self.remember(response.text)
        self.client.get(f"{BASE}/sims/count/?state={state}", headers=HTMX, name="count fragment")

    @task(3)
    def sim_page(self) -> None:
        iccid = random.choice(self.seen + self.my_sims[:5])
        self.client.get(f"{BASE}/sims/{iccid}/", name="SIM page")

    @task(2)
    def row_menu(self) -> None:
        iccid = random.choice(self.seen)
        self.client.get(f"{BASE}/sims/{iccid}/menu/", headers=HTMX, name="row menu")

    @task(2)
    def single_action(self) -> None:
        iccid = random.choice(self.my_sims)
        action = "reactivate" if iccid in self.deactivated else "deactivate"
        self.client.post(
            f"{BASE}/sims/{iccid}/{action}/", headers={**HTMX, **self.csrf()}, name="single-SIM action"
        )
        self.deactivated ^= {iccid}

    @task(1)
    def bulk_action(self) -> None:
        block = random.choice(self.my_blocks)
        if block in self.blocks_deactivated:
            data = {"action": "reactivate", "state": "suspended"}
        else:
            data = {"action": "deactivate", "state": "active"}
        data.update(scope="matching", q=block)
        answer = self.client.post(f"{BASE}/sims/bulk/", data=data, headers={**HTMX, **self.csrf()}, name="bulk action")
        asked = SHOWN_COUNT.search(answer.text)
        if asked:  # more than a few SIMs: type their number, as a person does
            data.update(confirm_count=asked.group(1), shown_count=asked.group(1))
            self.client.post(f"{BASE}/sims/bulk/", data=data, headers={**HTMX, **self.csrf()}, name="bulk action confirmed")
        self.blocks_deactivated ^= {block}

    @task(1)
    def billing(self) -> None:
        self.client.get(f"{BASE}/billing/", name="billing page")
        self.client.get(f"{BASE}/billing/period/", headers=HTMX, name="billing period fragment")  # the page's lazy lines

    @task(2)
    def import_progress(self) -> None:
        job = Path(CONFIG["job_file"]).read_text().strip()
        self.client.get(f"{BASE}/import/{job}/", headers=HTMX, name="import progress")
