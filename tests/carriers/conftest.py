import pytest

from tests.carriers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeSuperSim


@pytest.fixture
def twilio_fake():
    """A fake Super SIM API on a free port, with the Fleet "simconsole-active" (data on). Every
    test that uses it fails if a request or an answer broke Twilio's OpenAPI description."""
    fake = FakeSuperSim(api_keys={"SK" + "b2" * 16: "key-secret"}).start()
    fake.add_fleet("simconsole-active")
    yield fake
    fake.stop()
    assert not fake.violations, "Requests or answers outside Twilio's API description:\n" + "\n".join(fake.violations)


@pytest.fixture
def twilio_settings(twilio_fake):
    return {"api_base_url": twilio_fake.url, "timeout_s": 2, "workers": 4}


@pytest.fixture
def twilio_credentials():
    return {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
