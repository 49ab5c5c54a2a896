"""The scrubbing rules and the leak check, one place a credential travels at a time.

tests/test_credentials.py proves the same end to end (recording real clients through loopback
servers, then reading every written byte); these tests pin each rule and each message.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Any

import pytest
from vcr.request import Request

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.scrubbing import Rules, Scrubber, find_leaks, leaks_in_bytes

RULES = Rules.build(load_registry().all())
KEY = "0123456789abcdef0123456789abcdef"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def scrubber() -> Scrubber:
    return Scrubber(RULES)


def request(uri: str, body: bytes | None = None, **headers: str) -> Request:
    return Request("POST", uri, body, {k.replace("_", "-"): v for k, v in headers.items()})


def response(body: bytes, status: int = 200, /, **headers: str) -> dict[str, Any]:
    fields = {k.replace("_", "-"): [v] for k, v in headers.items()}
    return {"status": {"code": status, "message": "x"}, "headers": fields, "body": {"string": body}}


def test_azure_key_host_and_body_hash() -> None:
    azure = scrubber().request(
        request(
            "https://contoso-vision.cognitiveservices.azure.com/face/v1.2/detect",
            b"jpeg",
            Ocp_Apim_Subscription_Key=KEY,
            Host="contoso-vision.cognitiveservices.azure.com",
        )
    )
    assert azure.uri == "https://resource.cognitiveservices.azure.com/face/v1.2/detect"
    assert azure.headers["Ocp-Apim-Subscription-Key"] == "REDACTED"
    assert azure.headers["Host"] == "resource.cognitiveservices.azure.com"
    assert azure.body == f"sha256:{hashlib.sha256(b'jpeg').hexdigest()} (4 bytes)".encode()


def test_huawei_signing_token_and_project_id() -> None:
    huawei = scrubber().request(
        request(
            "https://ocr.cn-north-4.myhuaweicloud.com/v2/0a1b2c3d4e5f67890a1b2c3d4e5f6789/ocr/general-text",
            Authorization="SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=host;x-sdk-date, Signature=9e0f",
            X_Auth_Token="MIIT" + "x" * 80,
            X_Security_Token="gQpjbi1ub3J0aC00",
            X_Sdk_Date="20261123T020000Z",
            X_Project_Id="0a1b2c3d4e5f67890a1b2c3d4e5f6789",
        )
    )
    assert huawei.uri == "https://ocr.cn-north-4.myhuaweicloud.com/v2/PROJECT_ID/ocr/general-text"
    secret = ("Authorization", "X-Auth-Token", "X-Security-Token", "X-Sdk-Date")
    assert {huawei.headers[h] for h in secret} == {"REDACTED"}
    assert huawei.headers["X-Project-Id"] == "0a1b2c3d4e5f67890a1b2c3d4e5f6789"  # not a secret


def test_alibaba_rpc_query_is_scrubbed_and_still_matches() -> None:
    scrub = scrubber()
    alibaba = scrub.request(
        request(
            "https://imagesearch.cn-shanghai.aliyuncs.com/?Action=SearchImageByPic&AccessKeyId=LTAI5tAbCdEfGhIjKlMn&Signature=xyz%2B%3D&SignatureNonce=n1&Timestamp=2026-11-23T02%3A00%3A00Z&SecurityToken=sts",
            Authorization="ACS3-HMAC-SHA256 Credential=LTAI5tAbCdEfGhIjKlMn,SignedHeaders=host,Signature=ff",
            x_acs_security_token="CAIS" + "s" * 50,
        )
    )
    assert alibaba.uri == (
        "https://imagesearch.cn-shanghai.aliyuncs.com/?Action=SearchImageByPic&AccessKeyId=REDACTED"
        "&Signature=REDACTED&SignatureNonce=REDACTED&Timestamp=REDACTED&SecurityToken=REDACTED"
    )
    assert alibaba.headers["Authorization"] == alibaba.headers["x-acs-security-token"] == "REDACTED"
    # the same call signed a second later scrubs to the same request: replay still matches
    again = scrub.request(request(alibaba.uri.replace("REDACTED", "other")))
    assert again.uri == alibaba.uri


def test_query_keys_of_any_length_and_sas_nested_in_another_parameter() -> None:
    long_key = "Fq3" * 28  # 84 characters, the newer Azure key form
    scrubbed = scrubber().request(
        request(
            "https://api.bing.microsoft.com/v7.0/images/visualsearch?subscription-key="
            + long_key
            + "&imgUrl=https%3A%2F%2Fa.blob.core.windows.net%2Fc%2Fa.jpg%3Fsv%3D2022-11-02%26sig%3DSaSsIgNaTuRe%252B%253D%26se%3D1&mkt=en-US"
        )
    )
    assert scrubbed.uri == (
        "https://api.bing.microsoft.com/v7.0/images/visualsearch?subscription-key=REDACTED"
        "&imgUrl=https%3A%2F%2Fa.blob.core.windows.net%2Fc%2Fa.jpg%3Fsv%3D2022-11-02%26sig%3DREDACTED"
        "%26se%3D1&mkt=en-US"
    )


def body_of(scrub: Scrubber, body: bytes, content_type: str) -> bytes:
    scrub.request(request("https://x.invalid/", body, Content_Type=content_type))
    (raw,) = scrub.pending.values()
    return raw


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (
            "application/json",
            b'{"url": "https://a.blob.core.windows.net/c/a.jpg?sv=1&sig=AbC%2Bd\\u0026se=2", "n": 1}',
            b'{"url": "https://a.blob.core.windows.net/c/a.jpg?sv=1&sig=REDACTED\\u0026se=2", "n": 1}',
        ),
        (
            "application/json",
            b'{"auth": {"identity": {"password": {"user": {"name": "u", "password": "Hunter2!x"}}}}}',
            b'{"auth": {"identity": {"password": {"user": {"name": "u", "password": "REDACTED"}}}}}',
        ),
        (
            "application/x-www-form-urlencoded",
            b"Action=SearchImageByPic&AccessKeyId=LTAI5tAbCdEfGhIjKlMn&Signature=a%2Bb%3D"
            b"&SecurityToken=CAISabc&PicContent=%2F9j%2F4AAQ",
            b"Action=SearchImageByPic&AccessKeyId=REDACTED&Signature=REDACTED"
            b"&SecurityToken=REDACTED&PicContent=%2F9j%2F4AAQ",
        ),
    ],
    ids=["json-sas-url", "json-iam-password", "form-rpc"],
)
def test_request_bodies(content_type: str, body: bytes, expected: bytes) -> None:
    kept = Scrubber(RULES, bodies_dir=Path("bodies"))  # side files pending, never written here
    assert body_of(kept, body, content_type) == expected


def test_multipart_text_parts_are_scrubbed_and_images_kept_byte_for_byte() -> None:
    image = bytes(range(256)) * 40 + b"token=abc"  # binary content is never rewritten
    body = (
        b'--b0a1\r\nContent-Disposition: form-data; name="token"\r\n\r\nmy-session-token-77\r\n'
        b'--b0a1\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
        b"see https://a.blob.core.windows.net/c/a.jpg?sv=1&sig=AbCdEf123456\r\n"
        b'--b0a1\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + image + b"\r\n--b0a1--\r\n"
    )
    kept = Scrubber(RULES, bodies_dir=Path("bodies"))
    scrubbed = body_of(kept, body, "multipart/form-data; boundary=b0a1")
    assert b"my-session-token-77" not in scrubbed and b"AbCdEf123456" not in scrubbed
    assert b'name="token"\r\n\r\nREDACTED\r\n' in scrubbed and b"&sig=REDACTED\r\n" in scrubbed
    assert image in scrubbed


def test_responses_echoing_credentials_tokens_and_signed_urls() -> None:
    scrub = scrubber()
    scrub.request(request("https://x.invalid/face/v1.2/detect", Ocp_Apim_Subscription_Key=KEY))
    body = json.dumps(
        {
            "error": {"code": "401", "message": f"Access denied: key {KEY} is not valid"},
            "authToken": JWT,
            "resultUrl": "https://a.blob.core.windows.net/r/1.json?sv=1&sig=RsLtSiG%3D&se=2",
            "Message": "server string to sign is:POST&%2F&AccessKeyId%3DSTS.NUgYrLnoC37mZZCNnAbez2Q6Z"
            "%26Action%3DSearchImageByPic%26SecurityToken%3DCAISq1w2e3r4t5y6%26",
            "imageInsightsToken": "ccid_abc*cp_123",
        }
    ).encode()
    served = scrub.response(
        response(
            body,
            401,
            Content_Type="application/json",
            Content_Length=str(len(body)),
            X_Subject_Token="MII" + "Q" * 90,
            Set_Cookie="MUID=0E5A7E8B9C1D; path=/; HttpOnly",
            X_Request_Id="fedcba9876543210fedcba9876543210",
        )
    )
    text = served["body"]["string"].decode()
    document = json.loads(text)
    assert document["error"]["message"] == "Access denied: key REDACTED is not valid"
    assert document["authToken"] == "REDACTED"
    assert document["resultUrl"].endswith("sig=REDACTED&se=2")
    assert "NUgYrLnoC37mZZCNnAbez2Q6Z" not in text and "CAISq1w2e3r4t5y6" not in text
    assert document["imageInsightsToken"] == "ccid_abc*cp_123"  # Bing: not a credential
    headers = served["headers"]
    assert headers["X-Subject-Token"] == ["REDACTED"]
    assert headers["Set-Cookie"] == ["MUID=REDACTED; path=/; HttpOnly"]  # attributes kept
    assert headers["X-Request-Id"] == ["fedcba9876543210fedcba9876543210"]
    assert headers["Content-Length"] == [str(len(served["body"]["string"]))]


def test_authorization_parts_are_removed_wherever_they_are_echoed() -> None:
    scrub = scrubber()
    scrub.request(
        request(
            "https://x.invalid/",
            Authorization="SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=host, "
            "Signature=9e0f3a0b1c2d3e4f",
            Proxy_Authorization="Basic " + base64.b64encode(b"proxyuser:proxy-pass-99").decode(),
        )
    )
    echoed = b'{"error_msg": "ak QTWAOYTTINDUT2QVKYUC sig 9e0f3a0b1c2d3e4f via proxy-pass-99"}'
    served = scrub.response(response(echoed, Content_Type="application/json"))
    assert served["body"]["string"] == b'{"error_msg": "ak REDACTED sig REDACTED via REDACTED"}'


# ------------------------------------------------------------------ no false refusal


def interaction(**parts: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    req = {"method": "POST", "uri": parts.get("uri", "https://x.invalid/"), "body": None}
    req["headers"] = parts.get("request_headers", {})
    resp = response(parts.get("body", b"{}"), parts.get("status", 200))
    resp["headers"] = parts.get("response_headers", {})
    return req, resp


def test_ids_boundaries_hashes_and_images_are_not_credentials() -> None:
    hex32 = "fedcba9876543210fedcba9876543210"
    image = base64.b64encode(os.urandom(600_000))
    honest = interaction(
        uri=f"https://ocr.cn-north-4.myhuaweicloud.com/v2/{hex32}/ocr/general-text",
        request_headers={
            "X-Project-Id": [hex32],
            "Content-Type": [f"multipart/form-data; boundary={hex32}"],
            "x-acs-content-sha256": [hashlib.sha256(b"x").hexdigest()],
            "Authorization": ["REDACTED"],
        },
        response_headers={
            "X-Request-Id": [hex32],
            "ETag": [f'"{hashlib.md5(b"x").hexdigest()}"'],
            "apim-request-id": ["6c4c8c3a-2b1e-4f0e-9d7c-1a2b3c4d5e6f"],
        },
        body=b'{"error_code": "AIS.0101", "error_msg": "The input parameter is invalid.", '
        b'"request_id": "' + hex32.encode() + b'", "image": "' + image + b'"}',
    )
    assert find_leaks([honest], RULES) == []
    assert leaks_in_bytes(b'{"image": "' + image + b'"}', "request body", RULES) == []
    assert leaks_in_bytes(os.urandom(2_000_000), "request body", RULES) == []


# ------------------------------------------------------------------ the leak check


def test_each_leak_names_its_place_and_shape() -> None:
    env = [("the value of $MY_TOKEN (from the environment)", "tok-9f8e7d6c5b4a")]
    leaky = interaction(
        uri="https://x.invalid/a?apikey=k-1234567890",
        request_headers={"X-Thing": ["tok-9f8e7d6c5b4a"], "Ocp-Apim-Subscription-Key": [KEY]},
        body=json.dumps({"note": f"Bearer {'A1' * 15}", "sessionToken": "s-0987654321"}).encode(),
    )
    assert [str(leak) for leak in find_leaks([interaction(), leaky], RULES, env)] == [
        "interaction 2, request query parameter apikey holds a credential that was not scrubbed",
        "interaction 2, request header X-Thing holds the value of $MY_TOKEN (from the environment)",
        "interaction 2, request header Ocp-Apim-Subscription-Key holds a credential that was not "
        "scrubbed",
        "interaction 2, response body holds what looks like a bearer token",
        "interaction 2, response body field sessionToken holds a credential that was not scrubbed",
    ]


def test_user_rules_from_the_ini_and_a_bad_pattern_is_one_line(pytester: pytest.Pytester) -> None:
    rules = Rules.build((), names=["X-Tenant-Hint"], patterns=[r"acme_[a-z0-9]{12}"])
    scrub = Scrubber(rules)
    out = scrub.request(request("https://x.invalid/?q=acme_0123456789ab", X_Tenant_Hint="t-1"))
    assert out.uri == "https://x.invalid/?q=REDACTED" and out.headers["X-Tenant-Hint"] == "REDACTED"
    with pytest.raises(VisionContractError, match=r"scrubbing pattern '\(' is not a regular"):
        Rules.build((), patterns=["("])
    pytester.makeini("[pytest]\nvision_scrub_patterns = (unclosed\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: scrubbing pattern '(unclosed' is not a regular expression: missing ), *"]
    )


# ------------------------------------------------------------ shapes found by trying to break it


def scrubbed_response(scrub: Scrubber, body: bytes, **headers: str) -> bytes:
    served = scrub.response(response(body, **headers))
    raw: bytes = served["body"]["string"]
    return raw


def test_whole_body_credentials_and_xml_and_yaml_fields() -> None:
    scrub = scrubber()
    scrub.request(request("http://169.254.169.254/meta-data/latest/api/token"))
    assert scrubbed_response(scrub, b"mdtoken-0a1b2c3d4e5f", Content_Type="text/plain") == (
        b"REDACTED"
    )
    scrub.request(request("https://sts.aliyuncs.com/?Action=AssumeRole"))
    xml = b"<Credentials><AccessKeySecret>s3cr3t-Xy9</AccessKeySecret><Expiration>2026</Expiration></Credentials>"
    assert scrubbed_response(scrub, xml, Content_Type="text/xml") == (
        b"<Credentials><AccessKeySecret>REDACTED</AccessKeySecret><Expiration>2026</Expiration>"
        b"</Credentials>"
    )
    yaml_body = (
        b"AccessKeyId: LTAIabcdefghijklmnop\nAccessKeySecret: s3cr3t-Yz8\nRegion: cn-shanghai\n"
    )
    assert scrubbed_response(scrub, yaml_body, Content_Type="text/yaml") == (
        b"AccessKeyId: REDACTED\nAccessKeySecret: REDACTED\nRegion: cn-shanghai\n"
    )


def test_names_glued_together_and_describing_names() -> None:
    scrub = scrubber()
    out = scrub.request(
        request(
            "https://x.invalid/",
            X_HW_APPKEY="appkey-0123456789",
            X_IDENTITY_HEADER="identity-0123456789",
            X_Metadata_Token="mdtoken-0a1b2c3d4e5f",
        )
    )
    assert set(out.headers.values()) == {"REDACTED"}
    document = {
        "securitytoken": "sts-0123456789abcdef",
        "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
        "token_endpoint": "https://login.example/tenant/oauth2/v2.0/token",
        "token_type": "Bearer",
        "keyName": "key1",
        "key": "Invoice Number",
        "text": "PAY TO BEARER 6222020200112233445",
        "x5c": ["MIIC8DCCAdigAwIBAgIQZ2f4kLnl/O5D5MKr6T4Zt" + "A" * 200],
    }
    served = json.loads(scrubbed_response(scrub, json.dumps(document).encode()))
    assert served == {
        **document,
        "securitytoken": "REDACTED",
        "device_code": "REDACTED",
    }


def test_passwords_in_urls_fragments_and_java_escaped_json() -> None:
    scrub = scrubber()
    out = scrub.request(
        request(
            "https://x.invalid/v7.0/images/visualsearch?imgUrl="
            "https%3A%2F%2Falice%3Apa55-w0rd%40img.example%2Fa.jpg&mkt=en-US"
        )
    )
    assert out.uri.endswith("imgUrl=https%3A%2F%2Falice%3AREDACTED%40img.example%2Fa.jpg&mkt=en-US")
    body = (
        b'{"url": "https://bob:hunter-22@img.example/a.jpg", '
        b'"sas": "https://a.blob.core.windows.net/c/a.jpg?sv=1\\u0026sig\\u003dGsOnSiG%2B1"}'
    )
    assert scrubbed_response(scrub, body, Content_Type="application/json") == (
        b'{"url": "https://bob:REDACTED@img.example/a.jpg", '
        b'"sas": "https://a.blob.core.windows.net/c/a.jpg?sv=1\\u0026sig\\u003dREDACTED"}'
    )
    served = scrub.response(
        response(b"", 302, Location="https://app.example/cb#access_token=opaque-0123456789&x=1")
    )
    assert served["headers"]["Location"] == ["https://app.example/cb#access_token=REDACTED&x=1"]


def raw_deflate(data: bytes) -> bytes:
    """Deflate without zlib's header, as some servers send ``Content-Encoding: deflate``."""
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_compressed_responses_are_read_and_an_unreadable_one_is_refused() -> None:
    secret = b'{"access_token": "opaque-0123456789"}'
    for encoding, packed in [
        ("gzip", gzip.compress(secret)),
        ("deflate", zlib.compress(secret)),
        ("deflate", raw_deflate(secret)),
    ]:
        scrub = scrubber()
        served = scrub.response(response(packed, Content_Encoding=encoding))
        assert served["body"]["string"] == b'{"access_token": "REDACTED"}'
        assert "Content-Encoding" not in served["headers"]  # replayed as the client reads it
    # urllib3 hands vcrpy the body it already decoded, the header still saying gzip
    served = scrubber().response(response(secret, Content_Encoding="gzip"))
    assert served["body"]["string"] == b'{"access_token": "REDACTED"}'
    assert "Content-Encoding" not in served["headers"]
    scrub = scrubber()
    served = scrub.response(response(b"\x00\x01", Content_Encoding="compress"))
    assert scrub.unreadable == ["a response body in Content-Encoding 'compress'"]


def test_bodies_and_headers_in_any_form_a_client_hands_over() -> None:
    scrub = Scrubber(RULES, bodies_dir=Path("bodies"))
    out = scrub.request(
        Request(
            "POST",
            "http://[::1]:8080/face/v1.2/detect",
            {"url": "https://img.example/a.jpg", "token": "tok-0123456789"},  # aiohttp json=
            {"Ocp-Apim-Subscription-Key": KEY.encode()},  # requests accepts bytes
        )
    )
    assert out.uri == "http://[::1]:8080/face/v1.2/detect"
    assert b"tok-0123456789" not in b"".join(scrub.pending.values())
    echoed = f'{{"error": {{"message": "key {KEY} is not valid"}}}}'.encode()
    assert (
        scrubbed_response(scrub, echoed) == b'{"error": {"message": "key REDACTED is not valid"}}'
    )


def test_a_value_learned_late_is_removed_from_earlier_interactions() -> None:
    scrub = scrubber()
    first = scrub.request(request("http://169.254.169.254/openstack/latest/meta_data.json"))
    early = scrub.response(response(b'{"note": "md-token-learned-later"}'))
    second = scrub.request(request("https://x.invalid/", X_Metadata_Token="md-token-learned-later"))
    late = scrub.response(response(b"{}"))
    cassette = {"requests": [first, second], "responses": [early, late]}
    scrub.finish(cassette)
    assert cassette["responses"][0]["body"]["string"] == b'{"note": "REDACTED"}'


def test_ocr_text_and_other_data_are_not_credentials() -> None:
    """Text read off a document is data, whatever it says ("token=abc", "Signature=J.Smith"):
    only parameters of URLs, credential fields and shapes are scrubbed in a response."""
    scrub = scrubber()
    scrub.request(
        request("https://x.invalid/computervision/imageanalysis:analyze?api-version=2024-02-01")
    )
    lines = [
        "token=abc123def456", "key=SKU-2024-RED-SNEAKER-42", "Access=Granted",
        "Signature=JohnSmithAtHQ-2024", "x-api-key=see-vendor-portal", "pwd=on file",
        "Form field token=application", "Coupon: key_date=2023-10-01",
        "PAY TO BEARER 6222020200112233445", "Bearer tokenRequiredForThisCall",
    ]  # fmt: skip
    document = {
        "readResult": {"blocks": [{"lines": [{"text": line} for line in lines]}]},
        "kv_block_list": [{"key": "CustomerReferenceNumber:", "value": "42"}],
    }
    body = json.dumps(document).encode()
    served = scrub.response(
        response(
            body,
            401,
            Content_Type="application/json",
            WWW_Authenticate='Bearer authorization_uri="https://login.example/t", error="invalid_token"',
        )
    )
    assert served["body"]["string"] == body
    assert served["headers"]["Content-Type"] == ["application/json"]
    assert served["headers"]["WWW-Authenticate"][0].startswith("Bearer authorization_uri=")


def test_query_only_names_and_bodies_clients_hand_over_as_objects() -> None:
    scrub = Scrubber(RULES, bodies_dir=Path("bodies"))
    out = scrub.request(request("https://fn.example/api/detect?code=fn-key-0123456789&mode=x"))
    assert out.uri == "https://fn.example/api/detect?code=REDACTED&mode=x"
    error = b'{"error": {"code": "InvalidImage", "message": "bad"}}'
    assert scrubbed_response(scrub, error) == error  # "code" is data in a body

    class FormData:  # what aiohttp's stubs keep for data=FormData(...)
        def __init__(self) -> None:
            self._fields: list[tuple[dict[str, str], dict[str, str], object]] = [
                ({"name": "token"}, {}, "tok-0123456789"),
                ({"name": "f"}, {}, self),
            ]

    first = scrub.body(FormData(), "")
    assert first == scrub.body(FormData(), "")  # the same in every run: no object address
    assert b"tok-0123456789" not in b"".join(scrub.pending.values())  # its token field scrubbed
    out = scrub.request(Request("POST", "https://x.invalid/", iter([b"a=", b"1"]), {}))
    assert isinstance(out.body, bytes) and out.body.startswith(b"sha256:")


def test_what_vcrpy_loads_from_a_cassette_is_not_scrubbed_again() -> None:
    from pytest_visioncontract.scrubbing import Recorded

    scrub = scrubber()
    loaded = request("https://contoso.cognitiveservices.azure.com/face/v1.2/detect", b"{}")
    loaded.visioncontract_recorded = True
    assert scrub.request(loaded) is loaded and loaded.body == b"{}"  # its body not hashed again
    assert loaded.uri == "https://resource.cognitiveservices.azure.com/face/v1.2/detect"
    recorded = Recorded(response(b'{"authToken": "REDACTED"}'))
    again = scrub.response(recorded)
    assert again == recorded and type(again) is dict  # plain again: vcrpy may write it back


def test_a_side_file_is_checked_by_name_from_its_first_form_pair() -> None:
    leaks = leaks_in_bytes(b"AccessKeyId=LTAIzz9-abcdef&Action=SearchImageByPic", "body", RULES)
    assert [str(leak) for leak in leaks] == [
        "body, field AccessKeyId holds a credential that was not scrubbed"
    ]
    assert leaks_in_bytes(b"note: token=abc is text", "body", RULES) == []
