import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.models import Sim, State

_serials = itertools.count(1)


TEST_CLOCK = os.environ.get("TEST_CLOCK", "")


@pytest.fixture(autouse=True)
def moved_clock():
    """With TEST_CLOCK set (an ISO 8601 time, such as 2027-12-31T23:58:00Z), every test starts at that
    moment and the clock runs on from there: CI runs the suite so once, to prove no test depends on
    the day it runs. Only this process's clock moves: PostgreSQL's and the browser's do not."""
    if not TEST_CLOCK:
        yield
        return
    import time_machine

    with time_machine.travel(TEST_CLOCK, tick=True):
        yield


@pytest.fixture
def mid_month():
    """For a test about a period in its course (a projection, this month's usage beside last month's):
    the clock at noon on the 15th of this month, running on. Ask for it before the fixtures that
    write rows, so they are written then too."""
    import time_machine

    noon_on_the_15th = timezone.now().replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon_on_the_15th, tick=True):
        yield noon_on_the_15th


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def no_rules_remembered():
    """Each test starts with no rule (its database is empty of them): the rules engine knows it without a query,
    as a process does between reads (rules/active.py); a rule a test saves makes it read them again."""
    from rules.active import forget, remember

    remember(frozenset())
    yield
    forget()


@pytest.fixture(autouse=True)
def empty_cache():
    """The billing estimate is cached by product id: a test must not see another's (ids are reused)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files come from the source folders, with no collectstatic manifest.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def make_iccid() -> str:
    body = f"8901260{next(_serials):011d}"
    return body + luhn_check_digit(body)


def publish_queued_events() -> None:
    """What a worker does with the tasks that changes queued beside their domain events (sims/events.py),
    oldest first: publish them, and so write the webhooks' deliveries."""
    from django_tasks_db.models import DBTaskResult

    from sims.events import publish_events

    for result in DBTaskResult.objects.ready().filter(task_path=publish_events.module_path).order_by("enqueued_at"):
        result.claim("test")
        result.set_successful(publish_events.call(*result.task_result.args))


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, email=f"{username}@example.com", password="pw")


@pytest.fixture
def prices(db):
    """The data migration's prices, for transactional tests: their flush empties every table."""
    from billing.default_prices import fill_default_prices
    from billing.models import RateZone, ZoneCountry, ZonePrice

    fill_default_prices(RateZone, ZoneCountry, ZonePrice)


@pytest.fixture
def product(db):
    return Product.objects.create(name="Acme Trackers", slug="acme")


@pytest.fixture
def other_product(db):
    return Product.objects.create(name="Other Fleet", slug="other")


@pytest.fixture
def owner(product):
    """A product admin."""
    user = make_user("owner")
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def teammate(product):
    """A member who is not an admin."""
    user = make_user("teammate")
    Membership.objects.create(user=user, product=product, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def outsider(other_product):
    """Admin of another product, member of nothing of ours."""
    user = make_user("outsider")
    Membership.objects.create(user=user, product=other_product, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def make_sim(db):
    def make(product=None, state=State.ACTIVE, **fields) -> Sim:
        return Sim.objects.create(iccid=fields.pop("iccid", None) or make_iccid(), product=product, state=state, **fields)

    return make


@pytest.fixture
def sim(product, make_sim):
    return make_sim(product, home_country="US")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def teammate_client(client, teammate):
    client.force_login(teammate)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


def text_of(response) -> str:
    """What a person reads on the page: tags dropped, whitespace collapsed."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


# Runs a script with the clock where this process's is: time-machine moves only its own process.
_ON_THIS_CLOCK = (
    "import runpy, sys, time_machine; moment = sys.argv.pop(1); sys.argv.pop(0); "
    "time_machine.travel(moment, tick=True).start(); runpy.run_path(sys.argv[0], run_name='__main__')"
)


def python_on_this_clock() -> list[str]:
    """The command that starts Python for a script, on this process's clock when TEST_CLOCK moved it."""
    if not TEST_CLOCK:
        return [sys.executable]
    return [sys.executable, "-c", _ON_THIS_CLOCK, timezone.now().isoformat()]


@pytest.fixture
def start_worker(settings):
    """Start `manage.py db_worker` processes on the test database, as ./run does; stopped after the test."""
    from django.conf import settings as live_settings

    processes = []

    def start(**extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DEBUG": "0",
            "SECRET_KEY": "test-worker",
            "MEDIA_ROOT": live_settings.MEDIA_ROOT,
            **extra_env,
        }
        env.pop("PYTEST_VERSION", None)
        process = subprocess.Popen(
            [*python_on_this_clock(), "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=10)


def url_patterns() -> tuple[list[URLPattern], list[URLResolver]]:
    """The site's URLs, each app's own urls.py included in place (its prefix joined to each route, so a
    pattern's converters are all its URL's arguments), and the namespaced includes (the admin) apart."""
    patterns: list[URLPattern] = []
    namespaced: list[URLResolver] = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLPattern):
            patterns.append(entry)
        elif entry.namespace:
            namespaced.append(entry)
        else:
            for inner in entry.url_patterns:
                route = RoutePattern(str(entry.pattern) + str(inner.pattern), name=inner.name, is_endpoint=True)
                patterns.append(URLPattern(route, inner.callback, inner.default_args, inner.name))
    return patterns, namespaced
