"""Service settings from the environment, and the names derived from the namespace."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from shared.settings import ServiceSettings

_SETTINGS_ENV = [
    "SERVICE_NAME",
    "MONGODB_URL",
    "AMQP_URL",
    "QA_NAMESPACE",
    "IDENTITY_SIGNING_KEY",
    "IDENTITY_MAX_AGE_S",
    "CONSUMER_RETRY_DELAYS_MS",
    "CONSUMER_PREFETCH",
    "CONSUMER_MAX_ATTEMPTS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment that sets none of these settings."""
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def test_the_identity_signing_key_is_required():
    with pytest.raises(ValidationError, match="identity_signing_key"):
        ServiceSettings()


def test_the_identity_signing_key_is_kept_secret():
    settings = ServiceSettings(identity_signing_key="s3cret-value")

    assert settings.identity_signing_key.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert "s3cret-value" not in str(settings)


def test_defaults():
    settings = ServiceSettings(identity_signing_key="k")

    assert settings.qa_namespace == "qa"
    assert settings.identity_max_age_s == 120
    assert settings.consumer_retry_delays_ms == [1000, 5000, 30000]


def test_names_are_derived_from_namespace_and_service():
    settings = ServiceSettings(identity_signing_key="k", qa_namespace="t42", service_name="signoff")

    assert settings.database_name == "t42_signoff"
    assert settings.exchange_name == "t42.events"
    assert settings.queue_name("x") == "t42.signoff.x"
    assert settings.source == "/qa/signoff"


@pytest.mark.parametrize("namespace", ["Bad-NS", "bad-ns", "1qa", "", "qa.prod", "q" + "a" * 31])
def test_invalid_namespaces_are_rejected(namespace):
    with pytest.raises(ValidationError, match="qa_namespace"):
        ServiceSettings(identity_signing_key="k", qa_namespace=namespace)


@pytest.mark.parametrize("namespace", ["q", "qa_test_7", "q" + "a" * 30])
def test_valid_namespaces_are_accepted(namespace):
    assert ServiceSettings(identity_signing_key="k", qa_namespace=namespace).qa_namespace == namespace


def test_settings_are_read_from_upper_case_environment_variables(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IDENTITY_SIGNING_KEY", "from-env")
    monkeypatch.setenv("QA_NAMESPACE", "ci_run")
    monkeypatch.setenv("SERVICE_NAME", "audit")
    monkeypatch.setenv("CONSUMER_RETRY_DELAYS_MS", "[100,200]")

    settings = ServiceSettings()

    assert settings.identity_signing_key.get_secret_value() == "from-env"
    assert settings.consumer_retry_delays_ms == [100, 200]
    assert settings.database_name == "ci_run_audit"


def test_an_invalid_namespace_from_the_environment_is_rejected(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IDENTITY_SIGNING_KEY", "from-env")
    monkeypatch.setenv("QA_NAMESPACE", "Bad-NS")

    with pytest.raises(ValidationError, match="qa_namespace"):
        ServiceSettings()


@pytest.mark.parametrize(("name", "value"), [("CONSUMER_PREFETCH", "0"), ("CONSUMER_MAX_ATTEMPTS", "51")])
def test_out_of_range_consumer_settings_are_rejected(monkeypatch: pytest.MonkeyPatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        ServiceSettings(identity_signing_key="k")


def test_settings_are_frozen():
    settings = ServiceSettings(identity_signing_key="k")

    with pytest.raises(ValidationError):
        settings.qa_namespace = "other"
