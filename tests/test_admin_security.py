"""Admin hardening: lockout, second factor, password rules, configurable URL, login logging."""

import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff():
    return User.objects.create_superuser("staffer", "staffer@example.org", PASSWORD)


def login(client, password=PASSWORD, username="staffer", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def is_logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


class TestLockout:
    def test_five_failures_lock_out_even_the_right_password(self, client, staff):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert login(client, "wrong-password").status_code == 200
        login(client, "wrong-password")
        response = login(client)
        assert response.status_code == 429
        assert not is_logged_in(client)

    def test_the_lock_is_per_user_and_address(self, client, staff):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login(client, "wrong-password")
        other_address = client.__class__(REMOTE_ADDR="10.9.8.7")
        assert login(other_address).status_code == 302
        assert is_logged_in(other_address)

    def test_fewer_failures_then_success_resets(self, client, staff):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            login(client, "wrong-password")
        assert login(client).status_code == 302


class TestSecondFactor:
    def token(self, device) -> str:
        return str(TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()).zfill(6)

    def test_staff_with_a_device_need_its_code(self, client, staff):
        device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
        assert login(client).status_code == 200
        assert not is_logged_in(client)
        assert login(client, otp_device=device.persistent_id, otp_token="000000").status_code == 200
        device.refresh_from_db()
        device.throttle_reset()  # django-otp slows down guessing after a wrong code
        assert login(client, otp_device=device.persistent_id, otp_token=self.token(device)).status_code == 302
        assert is_logged_in(client)

    def test_without_a_device_the_password_is_enough_unless_required(self, client, staff, settings):
        assert login(client).status_code == 302
        assert is_logged_in(client)
        settings.OTP_REQUIRED = True
        assert not is_logged_in(client)


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError):
        validate_password("Xu8#short")
    validate_password("a much longer passphrase")


def test_admin_url_comes_from_the_environment():
    assert reverse("admin:index") == f"/{settings.ADMIN_URL}"
    env = {
        **os.environ,
        "ADMIN_URL": "/staff-7f3a/",
        "SECRET_KEY": "x",
        "DJANGO_SETTINGS_MODULE": "xuhui_portal.settings",
    }
    code = "import django; django.setup(); from django.urls import reverse; print(reverse('admin:index'))"
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "/staff-7f3a/"


def test_logins_are_logged_without_passwords(client, staff, caplog):
    with caplog.at_level(logging.INFO, logger="xuhui_portal.security"):
        login(client, "wrong-password-123")
        login(client)
    text = caplog.text
    assert "login failed user=staffer address=127.0.0.1" in text
    assert "login succeeded user=staffer" in text
    assert "wrong-password-123" not in text and PASSWORD not in text


def test_lockouts_are_logged(client, staff, caplog):
    with caplog.at_level(logging.INFO, logger="xuhui_portal.security"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login(client, "wrong-password")
    assert "login locked out user=staffer address=127.0.0.1" in caplog.text
