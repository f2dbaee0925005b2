"""Webhook signatures: valid, wrong, missing, stale — for leadops' shape and HubSpot's v3."""

import time

import pytest

from suppressions.crm.services.signing import (
    SignatureError,
    sign_hubspot_v3,
    sign_leadops,
    verify_hubspot_v3,
    verify_leadops,
)

SECRET = "s3cret"
BODY = b'{"events": []}'


def test_a_valid_leadops_signature_passes():
    ts = str(int(time.time()))
    verify_leadops(
        secret=SECRET, timestamp=ts, signature=sign_leadops(secret=SECRET, timestamp=ts, body=BODY), body=BODY
    )


def test_a_signature_of_another_body_is_refused():
    ts = str(int(time.time()))
    signature = sign_leadops(secret=SECRET, timestamp=ts, body=b"{}")
    with pytest.raises(SignatureError) as excinfo:
        verify_leadops(secret=SECRET, timestamp=ts, signature=signature, body=BODY)
    assert excinfo.value.code == "bad_signature"


def test_a_signature_made_with_another_secret_is_refused():
    ts = str(int(time.time()))
    signature = sign_leadops(secret="other", timestamp=ts, body=BODY)
    with pytest.raises(SignatureError):
        verify_leadops(secret=SECRET, timestamp=ts, signature=signature, body=BODY)


def test_a_missing_signature_is_refused():
    with pytest.raises(SignatureError) as excinfo:
        verify_leadops(secret=SECRET, timestamp=str(int(time.time())), signature=None, body=BODY)
    assert excinfo.value.code == "missing_signature"


def test_a_stale_timestamp_is_refused_even_with_a_valid_signature():
    ts = str(int(time.time()) - 301)
    signature = sign_leadops(secret=SECRET, timestamp=ts, body=BODY)
    with pytest.raises(SignatureError) as excinfo:
        verify_leadops(secret=SECRET, timestamp=ts, signature=signature, body=BODY)
    assert excinfo.value.code == "stale_timestamp"


def test_hubspot_v3_signature_passes_and_a_stale_one_fails():
    uri = "https://leadops.example/api/v1/crm/1/events"
    fresh = str(int(time.time() * 1000))
    verify_hubspot_v3(
        secret=SECRET,
        method="POST",
        uri=uri,
        body=BODY,
        timestamp=fresh,
        signature=sign_hubspot_v3(secret=SECRET, method="POST", uri=uri, body=BODY, timestamp=fresh),
    )
    stale = str(int((time.time() - 600) * 1000))
    with pytest.raises(SignatureError):
        verify_hubspot_v3(
            secret=SECRET,
            method="POST",
            uri=uri,
            body=BODY,
            timestamp=stale,
            signature=sign_hubspot_v3(secret=SECRET, method="POST", uri=uri, body=BODY, timestamp=stale),
        )
