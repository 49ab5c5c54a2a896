"""Recording never writes a credential, of any shape, and never refuses an honest recording.

Issue 12, items 1-3, the way a user meets the plugin: one generated test module
(``test_inner.py``) with one ``vision_cassette`` test per case is recorded once with
``--vision-record once`` (against the plugin's loopback simulator, and against a loopback
stand-in for what only real providers send back: tokens, cookies, echoed keys) with ini
``vision_store_bodies = true``, then replayed once with both servers stopped. Every file the two
runs leave in the project folder is then searched for every secret.

- ``SHAPES`` (A): how clients send a credential (headers, query strings, bodies) or how a
  provider returns one (response headers and bodies), for the five providers and their official
  SDKs' schemes. Each recording must pass, its cassette exist, no secret be written anywhere (in
  its raw, URL-encoded or doubly URL-encoded form, nor a 12-character slice of the middle of a
  long token), and the replay pass.
- ``HONEST`` (B): documented errors and realistic uploads that carry nothing secret but look
  random (request ids, multipart boundaries, project ids, hashes, base64 images): each must be
  recorded, not refused, and replayed, and its request bodies stored whole (nothing redacted).
- ``REFUSED`` (C): the value of a credential from the environment in an unknown header must
  make the recording error with ``pytest-visioncontract: refused to write <cassette>`` and write
  neither the cassette nor its body; ``AFTER_REFUSAL``, the test after it, must still be recorded.

The secrets reach the generated module through a JSON file outside the project folder, so any
copy of a secret found under that folder was written by the plugin.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import json
import os
import random
import re
import string
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
import yaml

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.simulator import running

PROVIDERS = (
    "azure_face",
    "azure_image_analysis",
    "bing_image_search",
    "huawei_ocr",
    "alibaba_image_search",
)
B64 = string.ascii_letters + string.digits + "+/"
B64URL = string.ascii_letters + string.digits + "-_"
ALNUM = string.ascii_letters + string.digits


def fake(seed: str, length: int, alphabet: str = B64, prefix: str = "") -> str:
    """A long fake token: ``prefix`` and then characters drawn from ``seed`` (reproducible)."""
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(alphabet) for _ in range(length - len(prefix)))


def jwt(seed: str, claims: dict[str, Any]) -> str:
    """A fake RS256 JSON Web Token (``eyJ...``) with these claims and a made-up signature."""

    def part(document: dict[str, Any]) -> str:
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"typ": "JWT", "alg": "RS256", "kid": fake(seed + "/kid", 27, B64URL)})
    return f"{header}.{part(claims)}.{fake(seed, 342, B64URL)}"


def entra(seed: str, tenant: str, oid: str) -> str:
    """A fake Microsoft Entra access token for Azure AI services."""
    return jwt(
        seed,
        {
            "aud": "https://cognitiveservices.azure.com",
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": 1764640800,
            "exp": 1764644700,
            "oid": oid,
            "tid": tenant,
            "uti": fake(seed + "/uti", 22, B64URL),
        },
    )


def pki(seed: str) -> str:
    """A fake Huawei IAM PKI token (``X-Auth-Token`` / ``X-Subject-Token``): CMS, ~1.6 KB."""
    return fake(seed, 1620, ALNUM + "-+", prefix="MIIEhAYJKoZIhvcNAQcCoIIEdTCCBHECAQExDTALBg")


def sts(seed: str) -> str:
    """A fake Alibaba Cloud STS security token (``CAIS...``)."""
    return fake(seed, 560, B64, prefix="CAIS") + "="


def huawei_temporary(seed: str) -> str:
    """A fake Huawei temporary security token (``X-Security-Token``)."""
    return fake(seed, 880, B64URL, prefix="gQpjbi1ub3J0aC00")


@dataclass(frozen=True)
class Inner:
    """One test of the generated module: ``code`` is its body, ``S`` its secrets there."""

    id: str
    provider: str
    how: str  # how the client sends the credential, or how the server returns it
    secrets: tuple[str, ...]
    code: str
    needs: str | None = None  # a module the test imports (an SDK of the interop extra)

    @property
    def function(self) -> str:
        return "test_" + self.id.replace("-", "_")


# --------------------------------------------------------------------------- A: the shapes

USERINFO_PASSWORD = "mjbPhHIcHwiPMkF9edGKb9ufCH56bs"  # and its Basic header, derived from it

SHAPES: tuple[Inner, ...] = (
    # ------------------------------------------------------------------ request headers
    Inner(
        "header-azure-key-hex32",
        "azure_face",
        "request header Ocp-Apim-Subscription-Key: <32 hex> (requests)",
        ("4bb1759a30728ff2360fadcbb4adb915",),
        r"""
        headers = {"Ocp-Apim-Subscription-Key": S[0], **OCTET}
        r = requests.post(FACE, data=image(2048, 1), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-azure-key-base62-84",
        "azure_image_analysis",
        "request header Ocp-Apim-Subscription-Key: <84 base62> (httpx)",
        ("ZDDr7hOd6PXChrCueeGIj053Dn8qngoy5ikh9Dr81ZKTpIV5mys5JQQJ99BAACYeBjFXJ3w3AAAEACOGLW1B",),
        r"""
        headers = {"Ocp-Apim-Subscription-Key": S[0], **OCTET}
        r = httpx.post(IA + "&features=caption", content=image(2048, 2), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-bearer-entra-jwt",
        "azure_face",
        "request header Authorization: Bearer <Entra JWT eyJ..> (requests)",
        (
            entra(
                "bearer",
                "1b720182-2ffe-4ff6-aaa3-f6f5e6fa8c43",
                "d35b7ec5-d472-4dfc-a730-da5fa46b7139",
            ),
        ),
        r"""
        headers = {"Authorization": "Bearer " + S[0], **OCTET}
        r = requests.post(FACE, data=image(2048, 3), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-huawei-sdk-hmac",
        "huawei_ocr",
        "Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=.., Signature=<64 hex>",
        (
            "2LSIUP2L54TEBBAQMIJN",
            "0be443035ad4d1caa46f2c55ac2541154fb1734cbcdfc0aa23581b9bacfc711b",
        ),
        r"""
        auth = (
            f"SDK-HMAC-SHA256 Access={S[0]}, "
            f"SignedHeaders=content-type;host;x-sdk-date, Signature={S[1]}"
        )
        headers = {"Authorization": auth, "X-Sdk-Date": "20261202T021500Z"}
        r = requests.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-alibaba-acs3-hmac",
        "alibaba_image_search",
        "Authorization: ACS3-HMAC-SHA256 Credential=LTAI5t..,SignedHeaders=..,Signature=<64 hex>"
        " (urllib3)",
        (
            "LTAI5tGELhTKA221ZEMvfThP",
            "5bba8ff70729bea2d9ba56358e6e04cab6ab59b9ec66902347dc054efe9a2035",
        ),
        r"""
        body = "InstanceName=demo&PicContent=" + q(b64(image(1024, 5)))
        auth = (
            f"ACS3-HMAC-SHA256 Credential={S[0]},"
            f"SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date,Signature={S[1]}"
        )
        headers = {
            "Authorization": auth,
            "Content-Type": "application/x-www-form-urlencoded",
            "x-acs-action": "SearchImageByPic",
            "x-acs-version": "2020-12-14",
            "x-acs-date": "2026-12-02T02:15:00Z",
            "x-acs-content-sha256": hashlib.sha256(body.encode()).hexdigest(),
        }
        r = HTTP.request("POST", SIM + "/", body=body.encode(), headers=headers)
        assert r.status == 200
        """,
    ),
    Inner(
        "header-alibaba-roa-acs",
        "alibaba_image_search",
        "Authorization: acs LTAI..:<base64 signature> (ROA style)",
        ("LTAI5tJbmjHgUbUFnlTlk33I", "IQmokaxScCz710vh34Ab9kfWhr4="),
        r"""
        headers = {
            "Authorization": f"acs {S[0]}:{S[1]}",
            "x-acs-action": "SearchImageByPic",
            "Date": "Wed, 02 Dec 2026 02:15:00 GMT",
        }
        r = requests.post(SIM + "/", data={"InstanceName": "demo"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-proxy-authorization-basic",
        "azure_face",
        "request header Proxy-Authorization: Basic <base64 user:password>",
        ("c3ZjLXZpc2lvbjphWHlYMkJRQlpMb2k3dEswaHJPMw==",),
        r"""
        headers = {"Proxy-Authorization": "Basic " + S[0], **OCTET}
        r = requests.post(FACE, data=image(2048, 7), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-huawei-x-auth-token-pki",
        "huawei_ocr",
        "request header X-Auth-Token: <IAM PKI token MII.., 1.6 KB>",
        (pki("x-auth-token"),),
        r"""
        headers = {"X-Auth-Token": S[0]}
        r = requests.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-huawei-x-security-token",
        "huawei_ocr",
        "request header X-Security-Token: <temporary security token>",
        (huawei_temporary("x-security-token"),),
        r"""
        headers = {"X-Security-Token": S[0]}
        r = requests.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-alibaba-x-acs-security-token",
        "alibaba_image_search",
        "request header x-acs-security-token: <STS token CAIS..>",
        (sts("x-acs-security-token"),),
        r"""
        headers = {"x-acs-action": "SearchImageByPic", "x-acs-security-token": S[0]}
        r = requests.post(SIM + "/", data={"InstanceName": "demo"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-alibaba-x-acs-accesskey-id",
        "alibaba_image_search",
        "request header x-acs-accesskey-id: LTAI5t.. (httpx)",
        ("LTAI5tVuvuYTA731xGIunaow",),
        r"""
        headers = {"x-acs-action": "SearchImageByPic", "x-acs-accesskey-id": S[0]}
        r = httpx.post(SIM + "/", data={"InstanceName": "demo"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-cookie",
        "bing_image_search",
        "request header Cookie: MUID=..; session=<secret>",
        ("EuzGODDKmavUSL5AP1h76dwgRFg42K1aFeMv",),
        r"""
        headers = {"Cookie": "MUID=0C2F4A6B8D1E3F50; SRCHD=AF=NOFORM; session=" + S[0]}
        r = requests.get(BING, params={"q": "red bicycle"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-api-key",
        "azure_image_analysis",
        "request header api-key: <32 hex> (an API gateway's key header)",
        ("31d503c45631b8e435a18d1a75a91b86",),
        r"""
        headers = {"api-key": S[0], **OCTET}
        r = requests.post(IA + "&features=tags", data=image(2048, 13), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-x-api-key",
        "huawei_ocr",
        "request header x-api-key: <secret> (httpx)",
        ("dvcBv2LJwdWKSDosziFu63rhcM8929bb",),
        r"""
        headers = {"x-api-key": S[0]}
        r = httpx.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-huawei-x-apig-appcode",
        "huawei_ocr",
        "request header X-Apig-AppCode: <64 hex> (API Gateway AppCode authentication)",
        ("bdef18b8a0c4034550b7c8b39ce70ebd0a5eb16332b4c63c3d89efd2dd93b81c",),
        r"""
        headers = {"X-Apig-AppCode": S[0]}
        r = requests.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "header-alibaba-x-acs-bearer-token",
        "alibaba_image_search",
        "request header x-acs-bearer-token: <secret> (BearerTokenCredential)",
        ("RtMAmZuPfyLuWpAYD8eAQFXYMs5c9B",),
        r"""
        headers = {"x-acs-action": "SearchImageByPic", "x-acs-bearer-token": S[0]}
        r = requests.post(SIM + "/", data={"InstanceName": "demo"}, headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "url-userinfo-basic",
        "bing_image_search",
        "http://user:<password>@host/.. in the URL: httpx sends Authorization: Basic (httpx)",
        (USERINFO_PASSWORD, base64.b64encode(f"svc-vision:{USERINFO_PASSWORD}".encode()).decode()),
        r"""
        url = SIM.replace("http://", "http://svc-vision:" + S[0] + "@") + "/v7.0/images/search"
        r = httpx.get(url, params={"q": "red bicycle"})
        assert r.status_code == 200
        assert r.request.headers["Authorization"] == "Basic " + S[1]
        """,
    ),
    # ------------------------------------------------------------------ query strings
    Inner(
        "query-subscription-key-hex32",
        "bing_image_search",
        "query subscription-key=<32 hex>",
        ("d3ed6ee2fd8bdbe06a2ac409d395fa4f",),
        r"""
        r = requests.get(BING, params={"q": "red bicycle", "subscription-key": S[0]})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "query-subscription-key-84",
        "azure_image_analysis",
        "query subscription-key=<84 base62> (urllib3)",
        ("HX4iL17RWncHB5Ws0Ye3YX1Phh6gUsXQRe8cEFRmrWPM7dGvnONiJQQJ99BAACYeBjFXJ3w3AAAEACOGtZzY",),
        r"""
        url = IA + "&features=caption&subscription-key=" + S[0]
        r = HTTP.request("POST", url, body=image(2048, 16), headers=OCTET)
        assert r.status == 200
        """,
    ),
    Inner(
        "query-accesskeyid-ltai",
        "alibaba_image_search",
        "query AccessKeyId=LTAI5t.. (RPC style)",
        ("LTAI5tWkE9tNeXzLqYkVVscD",),
        r"""
        params = rpc(AccessKeyId=S[0])
        r = requests.post(SIM + "/", params=params, data={"InstanceName": "demo"})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "query-accesskeyid-sts",
        "alibaba_image_search",
        "query AccessKeyId=STS.<id> (RPC style, temporary credentials)",
        ("STS.NUJPb1CLVEcsDoYporHihP0YZEv",),
        r"""
        params = rpc(AccessKeyId=S[0])
        r = requests.post(SIM + "/", params=params, data={"InstanceName": "demo"})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "query-signature-base64",
        "alibaba_image_search",
        "query Signature=<base64 with + / => sent as %2B %2F %3D",
        ("Q/Cy7HhY7OdB23VI5bkk/l8Z1/M=",),
        r"""
        params = rpc(Signature=S[0])
        r = requests.post(SIM + "/", params=params, data={"InstanceName": "demo"})
        assert r.status_code == 200
        assert "%2F" in r.request.url and "%3D" in r.request.url
        """,
    ),
    Inner(
        "query-securitytoken",
        "alibaba_image_search",
        "query SecurityToken=<STS token CAIS..>",
        (sts("query-security-token"),),
        r"""
        params = rpc(SecurityToken=S[0])
        r = requests.post(SIM + "/", params=params, data={"InstanceName": "demo"})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "query-sas-url-in-imgurl",
        "bing_image_search",
        "query imgUrl=<Azure Blob SAS URL, sig=..., URL-encoded inside the value>",
        ("wN8x6kuXRJM0ewwB5tMOvnpBJ2ttWS6HumrvH28+7p0=",),
        r"""
        params = {"modules": "SimilarImages", "imgUrl": SAS + q(S[0])}
        r = requests.get(DETAILS, params=params)
        assert r.status_code == 200
        nested = "imgUrl=https%3A%2F%2Facct.blob.core.windows.net%2Fc%2Fa.jpg%3Fsv%3D"
        assert nested in r.request.url
        """,
    ),
    Inner(
        "query-oss-url-in-imgurl",
        "alibaba_image_search",
        "query imgUrl=<OSS signed URL: OSSAccessKeyId, Signature, security-token>",
        ("STS.NUCw56ZFfItFXpbgHNUbTO84Tld", "2UAlolV3nCPDzn7IhZIfGTYa+pw=", sts("oss-url")),
        r"""
        oss = (
            "https://demo-bucket.oss-cn-shanghai.aliyuncs.com/query/a.jpg?OSSAccessKeyId="
            + q(S[0]) + "&Expires=1764644700&Signature=" + q(S[1]) + "&security-token=" + q(S[2])
        )
        r = requests.get(DETAILS, params={"modules": "SimilarImages", "imgUrl": oss})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "query-sas-sig-direct",
        "azure_face",
        "GET of an Azure Blob SAS URL itself: query sv=..&sp=r&sig=<secret> (the image download)",
        ("jt8DMovxOJg00T2+aKkl+awt08wAG9lJrGOikVQNc/w=",),
        r"""
        url = STAND_IN + "/c/a.jpg?sv=2022-11-02&ss=b&srt=o&sp=r&sig=" + q(S[0])
        r = requests.get(url)
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
        face = requests.post(FACE, data=r.content, headers=OCTET)
        assert face.status_code == 200
        """,
    ),
    Inner(
        "query-oss-v4-url-in-imgurl",
        "alibaba_image_search",
        "query imgUrl=<OSS V4 signed URL: x-oss-credential=LTAI../.., x-oss-signature=<64 hex>>",
        (
            "LTAI5tZXtzuEYxO1WuIno5pA",
            "6d65fd267db23482e5d57b499897f80acf0e8f945e1a5c80f6ba1be3df5d67ed",
        ),
        r"""
        oss = (
            "https://demo-bucket.oss-cn-shanghai.aliyuncs.com/query/b.jpg"
            "?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20261202T021500Z"
            "&x-oss-expires=3600&x-oss-credential="
            + q(S[0] + "/20261202/cn-shanghai/oss/aliyun_v4_request")
            + "&x-oss-signature=" + S[1]
        )
        r = requests.get(DETAILS, params={"modules": "SimilarImages", "imgUrl": oss})
        assert r.status_code == 200
        """,
    ),
    # ------------------------------------------------------------------ request bodies
    Inner(
        "body-json-sas-url",
        "azure_face",
        'JSON body {"url": "<Azure Blob SAS URL ..&sig=<secret>>"}',
        ("D4DmV5cfScnGEwdCnllKYjtRiWHWMBwEkuq6ITteKG8=",),
        r"""
        r = requests.post(FACE, json={"url": SAS + q(S[0])})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "body-json-sas-url-u0026",
        "azure_image_analysis",
        r'JSON body {"url": "<SAS URL with & written \u0026>"} (httpx)',
        ("shfjtHFxfxaVrMXYzdvKRUkg1qxrxT1zrHjJkngmNOc=",),
        r"""
        url = SAS.replace("&", "\\u0026") + q(S[0])
        body = '{"url": "' + url + '"}'
        assert json.loads(body)["url"] == SAS + q(S[0])
        headers = {"Content-Type": "application/json"}
        r = httpx.post(IA + "&features=caption", content=body.encode(), headers=headers)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "body-form-alibaba-rpc",
        "alibaba_image_search",
        "form body AccessKeyId=LTAI..&Signature=..&SecurityToken=..&Action=SearchImageByPic..",
        ("LTAI5t3CfXhXMEzqu8KQaTkk", "VTRfgxYnaaVxEsAQrN3MwF8uxho=", sts("form-body")),
        r"""
        form = rpc(AccessKeyId=S[0], Signature=S[1], SecurityToken=S[2])
        form.update(InstanceName="demo", PicContent=b64(image(1024, 25)))
        r = requests.post(SIM + "/?Action=SearchImageByPic", data=form)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "body-multipart-token",
        "bing_image_search",
        "multipart body: a text part token=<secret> beside an image part",
        ("V3IA2HEN7IypTWVLtxSnAXvkJYqeSyYK",),
        r"""
        files = {"image": ("a.jpg", image(4096, 26), "image/jpeg")}
        r = requests.post(DETAILS + "?modules=SimilarImages", files=files, data={"token": S[0]})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "body-huawei-iam-password",
        "huawei_ocr",
        'JSON body of an IAM token request {"auth": {"identity": {"password": ...}}} (401)',
        ("Wq7!mZ2#vR9pL4xT8s",),
        r"""
        r = requests.post(STAND_IN + "/v3/auth/tokens", json=iam_password(S[0]))
        assert r.status_code == 401
        """,
    ),
    Inner(
        "body-entra-client-secret",
        "azure_face",
        "form body client_secret=<secret> of an Entra client-credentials request (401)",
        ("Xq8Q~3mZ.b7Vn4Rt_wKp2sLd9YhFg6Ju1cEoAi0",),
        r"""
        form = {
            "grant_type": "client_credentials",
            "client_id": "be8a1446-7e74-4a61-9798-bf20636edf18",
            "client_secret": S[0],
            "scope": "https://cognitiveservices.azure.com/.default",
        }
        r = requests.post(STAND_IN + "/contoso.onmicrosoft.com/oauth2/v2.0/token", data=form)
        assert r.status_code == 401
        """,
    ),
    Inner(
        "body-json-obs-signed-url",
        "huawei_ocr",
        'JSON body {"url": "<OBS signed URL: AccessKeyId, Signature, x-obs-security-token>"}',
        ("Q4JCGL0KLAZ7II62RYBD", "lp00RfnTLvp/k5f008ikHnDkE4U=", huawei_temporary("obs-url")),
        r"""
        url = (
            "https://receipts.obs.cn-north-4.myhuaweicloud.com/r.jpg?AccessKeyId=" + S[0]
            + "&Expires=1764644700&Signature=" + q(S[1]) + "&x-obs-security-token=" + q(S[2])
        )
        r = requests.post(OCR, json={"url": url, "detect_direction": True})
        assert r.status_code == 200
        """,
    ),
    Inner(
        "body-json-without-content-type",
        "huawei_ocr",
        "IAM token request JSON with a password, sent as data= with no Content-Type (401)",
        ("Vb4%hX9^qL2&nT7*rZ",),
        r"""
        body = json.dumps(iam_password(S[0]))
        r = requests.post(STAND_IN + "/v3/auth/tokens", data=body)
        assert "Content-Type" not in r.request.headers
        assert r.status_code == 401
        """,
    ),
    Inner(
        "body-form-rpc-large",
        "alibaba_image_search",
        "form body of 3 MB: PicContent first, then AccessKeyId=STS..&Signature=..&SecurityToken=",
        ("STS.NUtFwMAn4bLqbsskaOwwBalP0Rt", "rgQzLYAqGp3WQsl7pr3JpbwgJWw=", sts("large-form")),
        r"""
        form = {"InstanceName": "demo", "PicContent": b64(image(2_200_000, 52))}
        form.update(rpc(AccessKeyId=S[0], Signature=S[1], SecurityToken=S[2]))
        r = requests.post(SIM + "/?Action=SearchImageByPic", data=form)
        assert r.status_code == 200 and len(r.request.body) > 3_000_000
        """,
    ),
    # ------------------------------------------------------------------ responses
    Inner(
        "response-huawei-x-subject-token",
        "huawei_ocr",
        "response header X-Subject-Token: <PKI token MII..> (IAM, 201); the password sent",
        (pki("x-subject-token"), "Nq3$kT8@pW5zR1vY6m"),
        r"""
        url = STAND_IN + "/v3/auth/tokens?nocatalog=true"
        r = requests.post(url, json=iam_password(S[1]))
        assert r.status_code == 201 and r.headers["X-Subject-Token"]
        """,
    ),
    Inner(
        "response-set-cookie",
        "bing_image_search",
        "response header Set-Cookie: session=<secret>; Path=/; Secure; HttpOnly",
        ("pT4wXk9NbQ2rVm7LsJ8hYd3CfG6zA1eU",),
        r"""
        r = requests.get(STAND_IN + "/v7.0/images/trending")
        assert r.status_code == 200 and "Set-Cookie" in r.headers
        """,
    ),
    Inner(
        "response-alibaba-string-to-sign",
        "alibaba_image_search",
        "400 SignatureDoesNotMatch whose Message echoes the string to sign (AccessKeyId=STS..,"
        " SecurityToken)",
        ("STS.NUWkiHPIK4lf0c7DabNEV8BrkzY", sts("string-to-sign")),
        r"""
        params = rpc(AccessKeyId=S[0], SecurityToken=S[1])
        r = requests.post(STAND_IN + "/", params=params, data={"InstanceName": "demo"})
        assert r.status_code == 400 and r.json()["Code"] == "SignatureDoesNotMatch"
        """,
    ),
    Inner(
        "response-azure-401-echoes-key",
        "azure_image_analysis",
        "401 JSON error whose message echoes the Ocp-Apim-Subscription-Key the client sent",
        ("21dcd5d64e4872a44e96f3d72344a170",),
        r"""
        headers = {"Ocp-Apim-Subscription-Key": S[0], **OCTET}
        r = requests.post(STAND_IN + IA_PATH, data=image(2048, 32), headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "401"
        """,
    ),
    Inner(
        "response-face-liveness-auth-token",
        "azure_face",
        'liveness session {"sessionId": "..", "authToken": "<JWT>"}',
        (
            entra(
                "liveness",
                "2cc2eea9-2359-469e-b9f3-c2cfc3fc2808",
                "5e0a9d1f-62c4-4b7e-93a1-0f8d2c6b4e17",
            ),
        ),
        r"""
        body = {"livenessOperationMode": "PassiveActive", "deviceCorrelationId": "dev-0042"}
        r = requests.post(STAND_IN + "/face/v1.2/detectLiveness-sessions", json=body)
        assert r.status_code == 200 and r.json()["authToken"]
        """,
    ),
    Inner(
        "response-json-result-sas-url",
        "azure_face",
        'JSON body {"resultUrl": "https://..blob.core.windows.net/..&sig=<secret>"}',
        ("Sb6jf9AVtg9U03EjGxTqWnb4xIXod0p71P6lT3n3/ko=",),
        r"""
        url = STAND_IN + "/face/v1.2/operations/3f1c6a0e-8b2d-4e5f-9a7b-6c4d2e1f0a9b"
        r = requests.get(url)
        assert r.status_code == 200 and r.json()["status"] == "succeeded"
        """,
    ),
    Inner(
        "response-imds-access-token",
        "azure_image_analysis",
        'managed identity (IMDS) JSON {"access_token": "<JWT>", ..} (httpx)',
        (
            entra(
                "imds",
                "7c2b9e41-5d3a-4f08-b6e2-91a4c8d0f35e",
                "c8e1f2a3-4b5c-4d6e-8f70-a1b2c3d4e5f6",
            ),
        ),
        r"""
        params = {
            "api-version": "2018-02-01",
            "resource": "https://cognitiveservices.azure.com/",
        }
        url = STAND_IN + "/metadata/identity/oauth2/token"
        r = httpx.get(url, params=params, headers={"Metadata": "true"})
        assert r.status_code == 200 and r.json()["expires_in"] == "86399"
        """,
    ),
    Inner(
        "response-access-token-camel",
        "azure_face",
        'JSON body {"accessToken": "<JWT>"} (an ARM generateAccessToken call)',
        (
            entra(
                "generate-access-token",
                "9d4e6f70-8a1b-4c2d-9e3f-4a5b6c7d8e9f",
                "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            ),
        ),
        r"""
        url = (
            STAND_IN + "/subscriptions/6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f/resourceGroups/rg"
            "/providers/Microsoft.VideoIndexer/accounts/acct/generateAccessToken"
        )
        body = {"permissionType": "Reader", "scope": "Account"}
        r = requests.post(url, params={"api-version": "2024-01-01"}, json=body)
        assert r.status_code == 200 and r.json()["accessToken"]
        """,
    ),
    Inner(
        "response-huawei-ecs-security-key",
        "huawei_ocr",
        'ECS metadata /openstack/latest/securitykey {"credential": {access, secret,'
        " securitytoken}} (urllib3)",
        (
            "TUTTITG7ZJ9IIKAW8YHH",
            "xo23poDIOvQeVRhO5giqU1U7BJnM28nYyVU3F5gk",
            huawei_temporary("ecs-security-key"),
        ),
        r"""
        r = HTTP.request("GET", STAND_IN + "/openstack/latest/securitykey")
        assert r.status == 200 and json.loads(r.data)["credential"]["expires_at"]
        """,
    ),
    Inner(
        "response-alibaba-credentials-uri",
        "alibaba_image_search",
        "credentials URI JSON {AccessKeyId: STS.., AccessKeySecret, SecurityToken}",
        (
            "STS.NUlYVSpKUSFN1LSWrLwCBQIe63U",
            "Mj0xERQKslYgvJzhODrYPXG4EDUa7",
            sts("credentials-uri"),
        ),
        r"""
        r = requests.get(STAND_IN + "/sts/credentials")
        assert r.status_code == 200 and r.json()["Code"] == "Success"
        """,
    ),
    Inner(
        "response-gzip-security-token",
        "huawei_ocr",
        "gzip-compressed 201 JSON {credential: {access, secret, securitytoken}} (IAM"
        " securitytokens)",
        ("I108BAUN7UQBHUWS7C3Y", "bjj5yDGuWeFIANzcv5BUGfGcRZuSoZEgIG8uiHoJ", pki("gzip")),
        r"""
        body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}}
        r = requests.post(STAND_IN + "/v3.0/OS-CREDENTIAL/securitytokens", json=body)
        assert r.status_code == 201 and r.json()["credential"]["expires_at"]
        """,
    ),
    Inner(
        "response-issue-token-plain-text",
        "azure_image_analysis",
        "POST /sts/v1.0/issueToken with the key: 200 text/plain <JWT>",
        (
            "f53ced731be9bebd8f38363b6573763a",
            entra(
                "issue-token",
                "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                "8a9b0c1d-2e3f-4a5b-9c6d-7e8f9a0b1c2d",
            ),
        ),
        r"""
        headers = {"Ocp-Apim-Subscription-Key": S[0]}
        r = requests.post(STAND_IN + "/sts/v1.0/issueToken", headers=headers)
        assert r.status_code == 200 and r.text
        """,
    ),
    Inner(
        "response-alibaba-ram-role-pretty-json",
        "alibaba_image_search",
        'ECS RAM role credentials, pretty-printed JSON ("AccessKeySecret" : "..")',
        ("STS.NUbVG8vMOSFUwyU4yE3r93m3Cig", "1BPsFvlSskfvngqukORXychoT50UDs", sts("ram-role")),
        r"""
        url = STAND_IN + "/latest/meta-data/ram/security-credentials/ImageSearchRole"
        r = requests.get(url)
        assert r.status_code == 200 and r.json()["Code"] == "Success"
        """,
    ),
    Inner(
        "response-huawei-apig-echoes-ak",
        "huawei_ocr",
        "401 APIG.0301 whose error_msg echoes the AK of the SDK-HMAC-SHA256 request",
        (
            "TO36S7KEMZV0DX7EY524",
            "ec1604e501a885356fd96f8d64736167e5274731f021d1c1801450e6ed6efe4c",
        ),
        r"""
        auth = (
            f"SDK-HMAC-SHA256 Access={S[0]}, "
            f"SignedHeaders=content-type;host;x-sdk-date, Signature={S[1]}"
        )
        headers = {"Authorization": auth, "X-Sdk-Date": "20261202T021500Z"}
        url = STAND_IN + "/v2/" + PROJECT + "/ocr/general-table"
        r = requests.post(url, json={"url": "https://example.com/t.jpg"}, headers=headers)
        assert r.status_code == 401 and r.json()["error_code"] == "APIG.0301"
        """,
    ),
    Inner(
        "response-bing-error-echoes-imgurl",
        "bing_image_search",
        '400 ErrorResponse echoing the parameter: "value": "<SAS URL ..&sig=<secret>>"',
        ("nrEmnodziyddaMGjJbj6Zr8z8ejmlqVGGhyjMfkAhNY=",),
        r"""
        params = {"modules": "SimilarImages", "imgUrl": SAS + q(S[0])}
        r = requests.get(STAND_IN + "/v7.0/images/details", params=params)
        assert r.status_code == 400 and r.json()["errors"][0]["parameter"] == "imgUrl"
        """,
    ),
    Inner(
        "response-location-sas-redirect",
        "azure_face",
        "302 Location: <URL ..&sig=<secret>>, followed by the client (two interactions)",
        ("HK5UbJ2s54mKYL4ze5Lx9VIUeHWnU9L2t97lTk/4frA=",),
        r"""
        operation = "/face/v1.2/operations/7d1e9c2a-4b3f-4a5e-8c6d-0f9e8d7c6b5a"
        r = requests.get(STAND_IN + operation + "/result")
        assert r.status_code == 200 and r.history[0].status_code == 302
        """,
    ),
    Inner(
        "response-oss-xml-error",
        "alibaba_image_search",
        "403 OSS XML error echoing <OSSAccessKeyId>, <SignatureProvided> of a signed URL GET",
        ("LTAI5tJnoycaDhdCHvYhUrVJ", "OiskDmPjAKiNSa/ph31FgzjOBdU="),
        r"""
        url = (
            STAND_IN + "/demo-bucket/query/a.jpg?OSSAccessKeyId=" + S[0]
            + "&Expires=1764644700&Signature=" + q(S[1])
        )
        r = requests.get(url)
        assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
        """,
    ),
    Inner(
        "response-json-without-content-type",
        "huawei_ocr",
        "401 APIG.0301 echoing the AK, its JSON served with no Content-Type",
        (
            "VLWUBUINY0PB7EX262LQ",
            "d4d6b6cfd825a75d3d39f0dc19534e4672d9cfb1d93e5514b6a90dcc7ea7925f",
        ),
        r"""
        auth = (
            f"SDK-HMAC-SHA256 Access={S[0]}, "
            f"SignedHeaders=content-type;host;x-sdk-date, Signature={S[1]}"
        )
        headers = {"Authorization": auth, "X-Sdk-Date": "20261202T021500Z"}
        url = STAND_IN + "/v2/" + PROJECT + "/ocr/id-card"
        r = requests.post(url, json={"url": "https://example.com/id.jpg"}, headers=headers)
        assert r.status_code == 401 and "Content-Type" not in r.headers
        assert json.loads(r.content)["error_code"] == "APIG.0301"
        """,
    ),
    Inner(
        "response-octet-stream-credentials",
        "alibaba_image_search",
        "a JSON credentials file downloaded from a bucket as application/octet-stream",
        ("LTAI5tAADpR6PtxTpTEwk5bM", "haoFgOCrM1cYAUlydItERaUI4O5Hba"),
        r"""
        r = requests.get(STAND_IN + "/config-bucket/vision/credentials.json")
        assert r.status_code == 200 and json.loads(r.content)["Endpoint"]
        """,
    ),
    # ------------------------------------------------------------------ official SDKs
    Inner(
        "sdk-huaweicloudsdkocr-basic-credentials",
        "huawei_ocr",
        "huaweicloudsdkocr OcrClient, BasicCredentials(AK, SK, project): signs SDK-HMAC-SHA256",
        ("OXAI3O9HBZMJCQKJGEAI", "XPjr6xgQoJXKRcm66XwL8MLS7aVSLqRZYILTwOoN"),
        r"""
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkocr.v1 import (
            GeneralTextRequestBody,
            OcrClient,
            RecognizeGeneralTextRequest,
        )

        client = (
            OcrClient.new_builder()
            .with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(S[0], S[1], PROJECT))
            .with_endpoints([SIM])
            .build()
        )
        body = GeneralTextRequestBody(url="https://example.com/receipt.jpg")
        result = client.recognize_general_text(RecognizeGeneralTextRequest(body=body))
        assert result.result.words_block_count == 1
        """,
        needs="huaweicloudsdkocr",
    ),
    Inner(
        "sdk-azure-imageanalysis-key-credential",
        "azure_image_analysis",
        "azure-ai-vision-imageanalysis ImageAnalysisClient with AzureKeyCredential(<84 base62>)",
        ("UGi9ukUsIxjtwLvRlK4Muwa6cogUyVrQvr8eKxWkXWCtmnBBs1oDJQQJ99BAACYeBjFXJ3w3AAAEACOG76fT",),
        r"""
        from azure.ai.vision.imageanalysis import ImageAnalysisClient
        from azure.ai.vision.imageanalysis.models import VisualFeatures
        from azure.core.credentials import AzureKeyCredential

        client = ImageAnalysisClient(SIM, AzureKeyCredential(S[0]), retry_total=0)
        result = client.analyze(image(2048, 40), [VisualFeatures.CAPTION])
        assert result.caption is not None
        """,
        needs="azure.ai.vision.imageanalysis",
    ),
    Inner(
        "sdk-alibabacloud-imagesearch-sts",
        "alibaba_image_search",
        "alibabacloud-imagesearch20201214 Client, Config(access_key_id, _secret, security_token)",
        ("LTAI5ttOU6VSAUpx59Dpi6Xe", "iSEiXlVLTYMP8BOQfb7qAhtRel6KEn", sts("sdk-alibaba")),
        r"""
        from alibabacloud_imagesearch20201214 import models
        from alibabacloud_imagesearch20201214.client import Client
        from alibabacloud_tea_openapi import models as open_api_models
        from alibabacloud_tea_util.models import RuntimeOptions

        config = open_api_models.Config(
            access_key_id=S[0],
            access_key_secret=S[1],
            security_token=S[2],
            endpoint=SIM.removeprefix("http://"),
            protocol="http",
        )
        picture = b64(image(512, 55))
        request = models.SearchImageByPicRequest(instance_name="demo", pic_content=picture)
        response = Client(config).search_image_by_pic_with_options(request, RuntimeOptions())
        assert response.body.success is True
        """,
        needs="alibabacloud_imagesearch20201214",
    ),
)
BY_ID = {shape.id: shape for shape in SHAPES}


def secret(shape_id: str, index: int = 0) -> str:
    return BY_ID[shape_id].secrets[index]


# --------------------------------------------------------------------------- B: honest traffic

PROJECT = "2adb9705caf72ffbec693962f8e2a715"  # a Huawei project id: not a secret
HONEST: tuple[Inner, ...] = (
    Inner(
        "honest-azure-face-error",
        "azure_face",
        "documented 400 InvalidImage (apim-request-id UUID)",
        (),
        r"""
        headers = {"X-Vision-Error": "azure_face:InvalidImage", **OCTET}
        r = requests.post(FACE, data=image(4096, 101), headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidImage"
        """,
    ),
    Inner(
        "honest-azure-face-upload",
        "azure_face",
        "application/octet-stream image of 300 KB of random bytes",
        (),
        r"""
        r = requests.post(FACE, data=image(300_000, 102), headers=OCTET)
        assert r.status_code == 200 and r.json()[0]["faceId"]
        """,
    ),
    Inner(
        "honest-azure-image-analysis-error",
        "azure_image_analysis",
        "documented 400 InvalidRequest",
        (),
        r"""
        headers = {"X-Vision-Error": "azure_image_analysis:InvalidRequest", **OCTET}
        r = requests.post(IA + "&features=caption", data=image(4096, 103), headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
        """,
    ),
    Inner(
        "honest-azure-image-analysis-upload",
        "azure_image_analysis",
        "octet-stream image of 400 KB (httpx)",
        (),
        r"""
        url = IA + "&features=caption,read&language=en&gender-neutral-caption=true"
        r = httpx.post(url, content=image(400_000, 104), headers=OCTET)
        assert r.status_code == 200 and r.json()["captionResult"]["text"]
        """,
    ),
    Inner(
        "honest-bing-error",
        "bing_image_search",
        "documented 429 RateLimitExceeded (BingAPIs-TraceId)",
        (),
        r"""
        headers = {"X-Vision-Error": "bing_image_search:RateLimitExceeded"}
        r = requests.get(BING, params={"q": "red bicycle", "count": "10"}, headers=headers)
        assert r.status_code == 429 and r.json()["_type"] == "ErrorResponse"
        """,
    ),
    Inner(
        "honest-bing-upload-multipart",
        "bing_image_search",
        "multipart/form-data image of 300 KB (requests files=, boundary of 32 hex)",
        (),
        r"""
        files = {"image": ("photo.jpg", image(300_000, 106), "image/jpeg")}
        r = requests.post(DETAILS + "?modules=SimilarImages", files=files)
        assert r.status_code == 200
        assert re.fullmatch(
            r"multipart/form-data; boundary=[0-9a-f]{32}", r.request.headers["Content-Type"]
        )
        """,
    ),
    Inner(
        "honest-huawei-ocr-error",
        "huawei_ocr",
        "documented 400 AIS.0101 (X-Request-Id of 32 hex)",
        (),
        r"""
        headers = {"X-Vision-Error": "huawei_ocr:AIS.0101"}
        r = requests.post(OCR, json={"url": "https://example.com/r.jpg"}, headers=headers)
        assert r.status_code == 400 and r.json()["error_code"] == "AIS.0101"
        """,
    ),
    Inner(
        "honest-huawei-ocr-upload-base64",
        "huawei_ocr",
        'JSON {"image": "<base64 of 1 MB>"} with X-Project-Id: <32 hex>',
        (),
        r"""
        headers = {"X-Project-Id": PROJECT, "X-Sdk-Date": "20261202T021500Z"}
        body = {"image": b64(image(1_000_000, 108)), "detect_direction": True}
        r = requests.post(OCR, json=body, headers=headers)
        assert r.status_code == 200 and r.json()["result"]["words_block_count"] == 1
        """,
    ),
    Inner(
        "honest-huawei-ocr-base64-ltai-run",
        "huawei_ocr",
        "JSON base64 image whose base64 happens to hold LTAI + 16 letters (about 1 MB in 20)",
        (),
        r"""
        raw = bytearray(image(600_000, 109))
        raw[300_000:300_015] = base64.b64decode("LTAIxQ7vJ2mZk9WbRn3pHcUd")[:15]
        body = {"image": b64(bytes(raw))}
        assert re.search("LTAI[0-9A-Za-z]{12}", body["image"])
        r = requests.post(OCR, json=body)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "honest-huawei-ocr-base64-ltai-at-boundary",
        "huawei_ocr",
        "JSON base64 image holding /LTAI + 16 letters + '+' (about 1 image of 1 MB in 1000)",
        (),
        r"""
        raw = bytearray(image(600_000, 113))
        raw[300_000:300_018] = base64.b64decode("/LTAI5tQ8vJ2mZk9xWbRn+pH")
        body = {"image": b64(bytes(raw))}
        assert "/LTAI5tQ8vJ2mZk9xWbRn+pH" in body["image"]
        r = requests.post(OCR, json=body)
        assert r.status_code == 200
        """,
    ),
    Inner(
        "honest-alibaba-error",
        "alibaba_image_search",
        "documented 400 InvalidPicContent (x-acs-request-id, RequestId UUID)",
        (),
        r"""
        headers = {"X-Vision-Error": "alibaba_image_search:InvalidPicContent"}
        form = {"InstanceName": "demo", "PicContent": b64(image(4096, 110))}
        r = requests.post(SIM + "/?Action=SearchImageByPic", data=form, headers=headers)
        assert r.status_code == 400 and r.json()["Code"] == "InvalidPicContent"
        """,
    ),
    Inner(
        "honest-alibaba-upload-form",
        "alibaba_image_search",
        "form-encoded RPC upload (PicContent base64 of 200 KB), x-acs-content-sha256: <64 hex>",
        (),
        r"""
        form = {
            "InstanceName": "demo",
            "PicContent": b64(image(200_000, 111)),
            "CategoryId": "88888888",
            "Num": "10",
            "Start": "0",
            "Crop": "true",
        }
        body = urllib.parse.urlencode(form)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "x-acs-action": "SearchImageByPic",
            "x-acs-version": "2020-12-14",
            "x-acs-content-sha256": hashlib.sha256(body.encode()).hexdigest(),
        }
        r = requests.post(SIM + "/", data=body, headers=headers)
        assert r.status_code == 200 and r.json()["Success"] is True
        """,
    ),
    Inner(
        "honest-response-ids-and-hashes",
        "huawei_ocr",
        "stand-in 200 with X-Request-Id <32 hex>, ETag <md5>, Content-MD5, UUIDs, a sha1",
        (),
        r"""
        headers = {"X-Project-Id": PROJECT}
        body = {"image": b64(image(20_000, 112))}
        url = STAND_IN + "/v2/" + PROJECT + "/ocr/web-image"
        r = requests.post(url, json=body, headers=headers)
        assert r.status_code == 200 and r.headers["ETag"]
        """,
    ),
    Inner(
        "honest-bing-insights-token",
        "bing_image_search",
        "insightsToken=ccid_.. in the query, imageInsightsToken in the response (not credentials)",
        (),
        r"""
        params = {"insightsToken": "ccid_tuYk2m1Q*mid_9C1F3A*simid_608001", "modules": "All"}
        r = requests.get(DETAILS, params=params)
        assert r.status_code == 200 and r.json()["imageInsightsToken"] == "ccid_x"
        """,
    ),
)

# --------------------------------------------------------------------------- C: refused

SERVICE_TOKEN = "mst_9KfQ2vLx7RbT4nWc8ZpH3jDy"  # MY_SERVICE_TOKEN in the environment
REFUSED_BODY = random.Random(99).randbytes(1536)  # what image(1536, 99) sends
REFUSED = Inner(
    "refused-environment-token",
    "azure_face",
    "custom header X-My-Thing: <value of env MY_SERVICE_TOKEN>",
    (SERVICE_TOKEN,),
    r"""
    headers = {"X-My-Thing": os.environ["MY_SERVICE_TOKEN"], **OCTET}
    r = requests.post(FACE, data=image(1536, 99), headers=headers)
    assert r.status_code == 200
    """,
)
# The test after it. A refusal must leave nothing behind: vcrpy's patches undone when the
# refused test ends, not whenever Python next collects garbage (then in the middle of a later
# recording, which would send its traffic unrecorded). The collection at its start makes that
# moment deterministic; an SDK's first import does the same by chance.
AFTER_REFUSAL = Inner(
    "after-a-refusal",
    "azure_face",
    "the next recording, after the refusal (a garbage collection first)",
    (),
    r"""
    gc.collect()
    r = requests.post(FACE, data=image(1536, 98), headers=OCTET)
    assert r.status_code == 200
    """,
)
INNER = (*SHAPES, *HONEST, REFUSED, AFTER_REFUSAL)

# --------------------------------------------------------------------------- the inner module

PRELUDE = '''\
"""Generated by tests/test_credentials.py: one recorded test per case."""
import base64
import gc
import hashlib
import json
import os
import random
import re
import urllib.parse

import httpx
import pytest
import requests
import urllib3

SIM = os.environ["SIM"]  # the plugin's simulator
STAND_IN = os.environ["STAND_IN"]  # the loopback stand-in of tests/test_credentials.py
with open(os.environ["SHAPES_FILE"], encoding="utf-8") as f:
    SECRETS = json.load(f)  # kept outside this folder

PROJECT = "{project}"
FACE = SIM + "/face/v1.2/detect?returnFaceId=false&detectionModel=detection_03"
IA_PATH = "/computervision/imageanalysis:analyze?api-version=2024-02-01"
IA = SIM + IA_PATH
OCR = SIM + "/v2/" + PROJECT + "/ocr/general-text"
BING = SIM + "/v7.0/images/search"
DETAILS = SIM + "/v7.0/images/details"
OCTET = {"Content-Type": "application/octet-stream"}
SAS = "https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&ss=b&srt=o&sp=r&sig="
HTTP = urllib3.PoolManager()


def image(size, seed):
    return random.Random(seed).randbytes(size)


def b64(data):
    return base64.b64encode(data).decode()


def q(text):
    return urllib.parse.quote(text, safe="")


def rpc(**credentials):
    """Alibaba Cloud RPC common parameters (SearchImageByPic), with some credentials."""
    return {
        "Action": "SearchImageByPic",
        "Format": "JSON",
        "Version": "2020-12-14",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "6a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b",
        "Timestamp": "2026-12-02T02:15:00Z",
        **credentials,
    }


def iam_password(password):
    """A Huawei IAM token request (POST /v3/auth/tokens) with a password."""
    user = {"name": "ocr-bot", "password": password, "domain": {"name": "example-domain"}}
    identity = {"methods": ["password"], "password": {"user": user}}
    return {"auth": {"identity": identity, "scope": {"project": {"name": "cn-north-4"}}}}
'''.replace("{project}", PROJECT)

INI = "[pytest]\nvision_store_bodies = true\n"


def inner_source() -> str:
    parts = [PRELUDE]
    for test in INNER:
        body = textwrap.indent(textwrap.dedent(test.code).strip("\n"), "    ")
        parts.append(
            f"\n\n@pytest.mark.vision_cassette({test.id!r})\n"
            f"def {test.function}(vision_cassette):\n"
            f"    S = SECRETS.get({test.id!r}, [])\n"
            f"    assert len(S) == {len(test.secrets) if test in SHAPES else 0}\n{body}\n"
        )
    return "".join(parts)


# --------------------------------------------------------------------------- the stand-in

JSON = "application/json; charset=utf-8"
Answer = tuple[int, list[tuple[str, str]], bytes]


def as_json(status: int, document: Any, *headers: tuple[str, str]) -> Answer:
    return status, [("Content-Type", JSON), *headers], json.dumps(document).encode()


def percent(text: str) -> str:
    return quote(text, safe="~")


def answer(method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
    """What a provider (or its identity service) answers: realistic, with credentials in it."""
    url = urlsplit(target)
    path, query = url.path, dict(parse_qsl(url.query, keep_blank_values=True))
    if method == "POST" and path == "/v3/auth/tokens":  # Huawei IAM
        password = json.loads(body)["auth"]["identity"]["password"]["user"]["password"]
        if password != secret("response-huawei-x-subject-token", 1):
            error: dict[str, Any] = {
                "error_msg": "The username or password is wrong.",
                "error_code": "IAM.0004",
            }
            return as_json(401, error)
        token: dict[str, Any] = {
            "token": {
                "expires_at": "2026-12-03T02:15:00.000000Z",
                "issued_at": "2026-12-02T02:15:00.000000Z",
                "methods": ["password"],
                "user": {"name": "ocr-bot", "domain": {"name": "example-domain"}},
            }
        }
        return as_json(201, token, ("X-Subject-Token", secret("response-huawei-x-subject-token")))
    if method == "POST" and path.endswith("/oauth2/v2.0/token"):  # Microsoft Entra
        error = {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value, not the client "
            "secret ID, for a secret added to app 'be8a1446-7e74-4a61-9798-bf20636edf18'.",
            "error_codes": [7000215],
            "trace_id": "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
        }
        return as_json(401, error)
    if method == "GET" and path == "/v7.0/images/trending":  # Bing sets cookies
        cookie = f"session={secret('response-set-cookie')}; Path=/; Secure; HttpOnly"
        return as_json(200, {"_type": "TrendingImages", "categories": []}, ("Set-Cookie", cookie))
    if method == "POST" and path == "/":  # Alibaba RPC, signed wrongly
        params = dict(query)
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        params.pop("Signature", None)
        canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
        error = {
            "RequestId": "9B1D7E0C-3F2A-5C4B-8D6E-1A0F9E8D7C6B",
            "HostId": "imagesearch.cn-shanghai.aliyuncs.com",
            "Code": "SignatureDoesNotMatch",
            "Message": "Specified signature is not matched with our calculation. server string "
            f"to sign is:POST&%2F&{percent(canonical)}",
            "Recommend": "https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch",
        }
        return as_json(400, error, ("x-acs-request-id", error["RequestId"]))
    if method == "POST" and path == "/computervision/imageanalysis:analyze":  # echoes the key
        key = headers.get("ocp-apim-subscription-key", "")
        error = {"error": {"code": "401", "message": f"Access denied: key {key} is not valid"}}
        return as_json(401, error, ("apim-request-id", "4f0e1d2c-3b4a-4596-8877-a6b5c4d3e2f1"))
    if method == "POST" and path == "/face/v1.2/detectLiveness-sessions":
        session: dict[str, Any] = {
            "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e",
            "authToken": secret("response-face-liveness-auth-token"),
            "status": "NotStarted",
            "modelVersion": "2024-11-15",
        }
        return as_json(200, session)
    if method == "GET" and path.startswith("/face/v1.2/operations/") and path.endswith("/result"):
        sig = quote(secret("response-location-sas-redirect"), safe="")
        location = (
            f"http://{headers.get('host', '')}/results/r.json?sv=2022-11-02&sr=b&sp=r&sig={sig}"
        )
        return 302, [("Location", location), ("Content-Type", "text/plain")], b""
    if method == "GET" and path == "/results/r.json":
        return as_json(200, {"status": "succeeded", "faces": []})
    if method == "GET" and path == "/c/a.jpg":  # an Azure Blob, downloaded through its SAS URL
        jpeg = b"\xff\xd8\xff\xe0" + random.Random(7).randbytes(4092)
        return 200, [("Content-Type", "image/jpeg"), ("ETag", '"0x8DC5D1A2B3C4D5E"')], jpeg
    if method == "POST" and path == "/v3.0/OS-CREDENTIAL/securitytokens":  # Huawei IAM, gzip
        issued = {
            "access": secret("response-gzip-security-token", 0),
            "secret": secret("response-gzip-security-token", 1),
            "securitytoken": secret("response-gzip-security-token", 2),
            "expires_at": "2026-12-02T02:30:00.000000Z",
        }
        packed = gzip.compress(json.dumps({"credential": issued}).encode())
        return 201, [("Content-Type", JSON), ("Content-Encoding", "gzip")], packed
    if method == "POST" and path == "/sts/v1.0/issueToken":  # Azure AI services token
        plain = secret("response-issue-token-plain-text", 1).encode()
        return 200, [("Content-Type", "text/plain; charset=utf-8")], plain
    if method == "GET" and path.startswith("/latest/meta-data/ram/security-credentials/"):
        pretty = (  # Alibaba ECS metadata: pretty-printed, a space before each colon
            "{\n"
            f'  "AccessKeyId" : "{secret("response-alibaba-ram-role-pretty-json", 0)}",\n'
            f'  "AccessKeySecret" : "{secret("response-alibaba-ram-role-pretty-json", 1)}",\n'
            '  "Expiration" : "2026-12-02T08:15:00Z",\n'
            f'  "SecurityToken" : "{secret("response-alibaba-ram-role-pretty-json", 2)}",\n'
            '  "LastUpdated" : "2026-12-02T02:15:00Z",\n'
            '  "Code" : "Success"\n'
            "}"
        )
        return 200, [("Content-Type", "text/plain")], pretty.encode()
    if method == "POST" and path.endswith("/ocr/general-table"):  # Huawei APIG echoes the AK
        access = re.search(r"Access=([^,\s]+)", headers.get("authorization", ""))
        error = {
            "error_msg": "Incorrect IAM authentication information: verify aksk signature fail, "
            f"ak:{access.group(1) if access else ''}, signedHeaders:content-type;host;x-sdk-date",
            "error_code": "APIG.0301",
            "request_id": "4c1d7b2e9a0f4e6b8d3c5a7f1e9b2d4c",
        }
        return as_json(401, error, ("X-Request-Id", str(error["request_id"])))
    if method == "POST" and path.endswith("/ocr/id-card"):  # the same, without Content-Type
        access = re.search(r"Access=([^,\s]+)", headers.get("authorization", ""))
        error = {
            "error_msg": "Incorrect IAM authentication information: verify aksk signature fail, "
            f"ak:{access.group(1) if access else ''}, signedHeaders:content-type;host;x-sdk-date",
            "error_code": "APIG.0301",
            "request_id": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
        }
        return 401, [], json.dumps(error).encode()
    if method == "GET" and path == "/config-bucket/vision/credentials.json":
        document = {
            "AccessKeyId": secret("response-octet-stream-credentials", 0),
            "AccessKeySecret": secret("response-octet-stream-credentials", 1),
            "Endpoint": "imagesearch.cn-shanghai.aliyuncs.com",
        }
        raw = json.dumps(document, indent=2).encode()
        return 200, [("Content-Type", "application/octet-stream")], raw
    if method == "GET" and path == "/v7.0/images/details":  # Bing echoes the bad parameter
        detail = {
            "code": "InvalidRequest",
            "subCode": "ParameterInvalidValue",
            "message": "Parameter has invalid value.",
            "moreDetails": "Parameter has invalid value.",
            "parameter": "imgUrl",
            "value": query.get("imgUrl", ""),
        }
        return as_json(400, {"_type": "ErrorResponse", "errors": [detail]})
    if method == "GET" and path.startswith("/demo-bucket/"):  # OSS, a signed URL gone wrong
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
            "  <Code>SignatureDoesNotMatch</Code>\n"
            "  <Message>The request signature we calculated does not match the signature you "
            "provided. Check your key and signing method.</Message>\n"
            "  <RequestId>6552D4B0B1F2A33533C1A2B4</RequestId>\n"
            "  <HostId>demo-bucket.oss-cn-shanghai.aliyuncs.com</HostId>\n"
            f"  <OSSAccessKeyId>{query.get('OSSAccessKeyId', '')}</OSSAccessKeyId>\n"
            f"  <SignatureProvided>{query.get('Signature', '')}</SignatureProvided>\n"
            f"  <StringToSign>GET\n\n\n{query.get('Expires', '')}\n{path}</StringToSign>\n"
            "</Error>\n"
        )
        return 403, [("Content-Type", "application/xml")], xml.encode()
    if method == "GET" and path.startswith("/face/v1.2/operations/"):
        sig = quote(secret("response-json-result-sas-url"), safe="")
        result: dict[str, Any] = {
            "status": "succeeded",
            "createdTime": "2026-12-02T02:15:00Z",
            "resultUrl": "https://acct.blob.core.windows.net/results/r.json?sv=2022-11-02"
            f"&se=2026-12-02T03%3A15%3A00Z&sr=b&sp=r&sig={sig}",
        }
        return as_json(200, result)
    if method == "GET" and path == "/metadata/identity/oauth2/token":  # Azure IMDS
        token = {
            "access_token": secret("response-imds-access-token"),
            "client_id": "a1b2c3d4-e5f6-4789-8abc-def012345678",
            "expires_in": "86399",
            "expires_on": "1764727200",
            "ext_expires_in": "86399",
            "not_before": "1764640500",
            "resource": query.get("resource", ""),
            "token_type": "Bearer",
        }
        return as_json(200, token)
    if method == "POST" and path.endswith("/generateAccessToken"):  # Azure Resource Manager
        return as_json(200, {"accessToken": secret("response-access-token-camel")})
    if method == "GET" and path == "/openstack/latest/securitykey":  # Huawei ECS metadata
        credential: dict[str, Any] = {
            "access": secret("response-huawei-ecs-security-key", 0),
            "secret": secret("response-huawei-ecs-security-key", 1),
            "securitytoken": secret("response-huawei-ecs-security-key", 2),
            "expires_at": "2026-12-02T03:15:00.000000Z",
        }
        return as_json(200, {"credential": credential})
    if method == "GET" and path == "/sts/credentials":  # Alibaba credentials URI
        credentials: dict[str, Any] = {
            "Code": "Success",
            "AccessKeyId": secret("response-alibaba-credentials-uri", 0),
            "AccessKeySecret": secret("response-alibaba-credentials-uri", 1),
            "SecurityToken": secret("response-alibaba-credentials-uri", 2),
            "Expiration": "2026-12-02T03:15:00Z",
        }
        return as_json(200, credentials)
    if method == "POST" and path.endswith("/ocr/web-image"):  # honest ids and hashes
        result = {
            "result": {
                "words_block_count": 1,
                "words_block_list": [{"words": "Hello", "confidence": 0.99}],
                "image_id": "0b6c2a4e-9d1f-4e3a-8c5b-7a9e1d3f5b7c",
                "source_sha1": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
            }
        }
        return as_json(
            200,
            result,
            ("X-Request-Id", "7b0e5f6a1c2d4e3f8a9b0c1d2e3f4a5b"),
            ("ETag", '"d41d8cd98f00b204e9800998ecf8427e"'),
            ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("x-acs-request-id", "5C1E7A3B-9D2F-4B6A-8E0C-1F3A5B7D9E2C"),
        )
    return as_json(404, {"error": f"the stand-in has no answer for {method} {path}"})


class StandInHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._body()  # the whole request first
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, content = answer(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the two runs

CREDENTIAL_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|_AK$|_SK$", re.I)


def environment(**extra: str) -> dict[str, str]:
    """The outer environment without pytest's variables (PYTEST_ADDOPTS, xdist's) and without
    the outer machine's own credentials, plus ``extra``."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "PYTHONDONTWRITEBYTECODE"))
        and not CREDENTIAL_NAME.search(name)
    }
    return {**kept, **extra}


@dataclass(frozen=True)
class Outcome:
    outcome: str  # passed, failed, error, skipped, missing
    detail: str = ""


@dataclass
class Runs:
    folder: Path
    record: dict[str, Outcome]
    replay: dict[str, Outcome]
    record_output: str
    seconds: float
    files: dict[Path, bytes] = field(default_factory=dict)
    decoded: dict[Path, bytes] = field(default_factory=dict)  # scalars of each YAML file

    @property
    def cassettes(self) -> Path:
        return self.folder / "cassettes" / "test_inner"


def run_inner(
    folder: Path, report: Path, env: dict[str, str], *args: str
) -> tuple[dict[str, Outcome], str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        f"--junitxml={report}",
        "-rA",
        *args,
    ]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    if not report.is_file():
        raise AssertionError(f"the inner run wrote no report (exit {done.returncode}):\n{output}")
    names = {test.function: test.id for test in INNER}
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(report).iter("testcase"):
        name = names.get(case.get("name", ""), case.get("name", ""))
        outcome = "passed"
        detail = ""
        for tag in ("skipped", "failure", "error"):
            for element in case.findall(tag):
                outcome = {"failure": "failed"}.get(tag, tag)
                detail = (element.get("message") or "") + "\n" + (element.text or "")
        outcomes[name] = Outcome(outcome, detail.strip())
    return outcomes, output


def scalars(document: Any) -> Iterator[bytes]:
    """Every string in a loaded YAML document, as bytes (keys too)."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from scalars(key)
            yield from scalars(value)
    elif isinstance(document, list):
        for item in document:
            yield from scalars(item)
    elif isinstance(document, bytes):
        yield document
    elif isinstance(document, str):
        yield document.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Record every case once (servers up), then replay once (servers stopped)."""
    root = tmp_path_factory.mktemp("credentials").resolve()
    folder = root / "project"
    folder.mkdir()
    (folder / "pytest.ini").write_text(INI)
    (folder / "test_inner.py").write_text(inner_source())
    secrets_file = root / "shapes.json"  # outside the project folder
    secrets_file.write_text(json.dumps({shape.id: shape.secrets for shape in SHAPES}))
    started = time.monotonic()
    with running(load_registry()) as simulator, stand_in() as standing_in:
        env = environment(
            SIM=simulator,
            STAND_IN=standing_in,
            SHAPES_FILE=str(secrets_file),
            MY_SERVICE_TOKEN=SERVICE_TOKEN,
        )
        record, output = run_inner(folder, root / "record.xml", env, "--vision-record", "once")
    replay, _ = run_inner(folder, root / "replay.xml", env)
    found = Runs(folder, record, replay, output, time.monotonic() - started)
    read_folder(found)
    return found


def read_folder(runs: Runs) -> None:
    """Every file under the project folder, and the strings of each YAML file once loaded (a
    long string may be folded over lines, or stored as !!binary)."""
    for path in sorted(p for p in runs.folder.rglob("*") if p.is_file()):
        runs.files[path] = path.read_bytes()
        if path.suffix == ".yaml":
            try:
                document = yaml.safe_load(runs.files[path])
            except yaml.YAMLError:
                continue
            runs.decoded[path] = b"\n".join(scalars(document))


# --------------------------------------------------------------------------- the checks


def needles(value: str) -> dict[str, str]:
    """The forms of a secret that must not be written, by a label for each."""
    once = quote(value, safe="")
    forms = {
        "raw": value,
        "URL-encoded": once,
        "form-encoded": quote_plus(value),
        "doubly URL-encoded": quote(once, safe=""),
    }
    if len(value) >= 100:  # long tokens: a slice of the middle is enough to give them away
        for label, form in list(forms.items()):
            middle = len(form) // 2
            forms[f"middle of {label}"] = form[middle - 6 : middle + 6]
    unique: dict[str, str] = {}
    for label, form in forms.items():
        if form and form not in unique.values():
            unique[label] = form
    return unique


def describe(outcome: Outcome) -> str:
    lines = [line for line in outcome.detail.splitlines() if line.strip()]
    return f"{outcome.outcome}: " + " | ".join(lines[:3])[:600]


def recorded_and_replayed(runs: Runs, test: Inner) -> list[str]:
    problems = []
    record = runs.record.get(test.id, Outcome("missing"))
    if record.outcome != "passed":
        problems.append(f"recording {describe(record)}")
    cassette = runs.cassettes / f"{test.id}.yaml"
    if not cassette.is_file():
        hint = ""
        if record.outcome == "passed":
            hint = (
                " although the recording passed: its traffic went unrecorded (see"
                " test_a_refusal_leaves_the_next_recording_intact)"
            )
        problems.append(f"no cassette {cassette.relative_to(runs.folder)}{hint}")
    replay = runs.replay.get(test.id, Outcome("missing"))
    if replay.outcome != "passed":
        problems.append(f"replay {describe(replay)}")
    return problems


STORED_BODY = re.compile(rb"sha256:([0-9a-f]{64}) \((\d+) bytes\)")


def bodies_kept_whole(runs: Runs, test: Inner) -> list[str]:
    """The request bodies of an honest recording, stored as side files: each there, named by
    its hash, of the size the cassette gives, and with nothing redacted (there was nothing to)."""
    cassette = runs.cassettes / f"{test.id}.yaml"
    problems = []
    for digest, size in STORED_BODY.findall(runs.decoded.get(cassette, b"")):
        side = runs.cassettes / "bodies" / f"{digest.decode()}.bin"
        content = runs.files.get(side)
        if content is None:
            problems.append(f"the cassette names {side.name}, which was not written")
        elif hashlib.sha256(content).hexdigest() != digest.decode() or len(content) != int(size):
            problems.append(f"{side.name} is not the body the cassette describes")
        elif b"REDACTED" in content:
            at = content.index(b"REDACTED")
            problems.append(f"{side.name} was altered: {content[max(0, at - 60) : at + 20]!r}")
    return problems


def written(runs: Runs, value: str) -> list[str]:
    """Where (and in which form) a secret was written under the project folder."""
    where = []
    for label, form in needles(value).items():
        wanted = form.encode()
        for path, content in runs.files.items():
            if wanted in content:
                where.append(f"{label} in {path.relative_to(runs.folder)}")
            elif wanted in runs.decoded.get(path, b""):
                where.append(f"{label} in {path.relative_to(runs.folder)} (once YAML-decoded)")
    return where


def test_the_table_of_shapes_is_sound() -> None:
    everything = INNER
    assert len(SHAPES) >= 35
    assert len({t.id for t in everything}) == len(everything)
    assert {t.provider for t in SHAPES} == set(PROVIDERS)
    assert {t.provider for t in HONEST} == set(PROVIDERS)
    source = Path(__file__).read_text()
    inner = inner_source() + INI
    values = [(t.id, v) for t in (*SHAPES, REFUSED) for v in t.secrets]
    assert len({v for _, v in values}) == len(values), "every secret is unique"
    for owner, value in values:
        assert len(value) >= 16, (owner, value)
        assert source.count(value) <= 1, f"{owner}: the secret appears elsewhere in this file"
        for label, form in needles(value).items():
            assert form not in inner, f"{owner}: {label} is in the generated module"
            for other, theirs in values:
                if other != owner:
                    assert not any(form in f for f in needles(theirs).values()), (owner, other)


def test_the_search_finds_a_secret_in_any_form(tmp_path: Path) -> None:
    """The harness itself: a secret written raw, percent-encoded twice, as YAML !!binary, or
    only in part (a long token), is found."""
    token, signature = pki("planted"), "Zm9vYmFyYmF6+cXV4/eHl6="
    folded = yaml.dump({"body": b"\xff" + token.encode()})  # !!binary: base64 of the bytes
    assert token not in folded
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / "a.bin").write_bytes(
        b"\x00\xff" + quote(quote(signature, safe=""), safe="").encode()
    )
    (tmp_path / "c.yaml").write_text(folded)
    (tmp_path / "d.txt").write_text("..." + token[790:830] + "...")  # its middle
    runs = Runs(tmp_path, {}, {}, "", 0.0)
    read_folder(runs)
    assert written(runs, signature) == ["doubly URL-encoded in bodies/a.bin"]
    found = written(runs, token)
    assert "raw in c.yaml (once YAML-decoded)" in found and "middle of raw in d.txt" in found


def available(test: Inner) -> None:
    if test.needs is not None and importlib.util.find_spec(test.needs.split(".")[0]) is None:
        pytest.skip(f"{test.needs} is not installed (the interop extra)")


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.id for shape in SHAPES])
def test_a_recording_writes_no_credential(runs: Runs, shape: Inner) -> None:
    available(shape)
    problems = recorded_and_replayed(runs, shape)
    for number, value in enumerate(shape.secrets, start=1):
        problems += [f"secret {number} ({value[:8]}..) {where}" for where in written(runs, value)]
    assert not problems, f"{shape.id} ({shape.how}):\n" + "\n".join(problems)


@pytest.mark.parametrize("case", HONEST, ids=[case.id for case in HONEST])
def test_an_honest_recording_is_not_refused(runs: Runs, case: Inner) -> None:
    problems = recorded_and_replayed(runs, case) + bodies_kept_whole(runs, case)
    assert not problems, f"{case.id} ({case.how}):\n" + "\n".join(problems)


def test_a_credential_from_the_environment_refuses_the_recording(runs: Runs) -> None:
    record = runs.record.get(REFUSED.id, Outcome("missing"))
    assert record.outcome == "error", describe(record)
    cassette = runs.cassettes / f"{REFUSED.id}.yaml"
    refusals = [
        line
        for line in runs.record_output.splitlines()
        if line.startswith(f"pytest-visioncontract: refused to write {cassette}")
    ]
    assert refusals, runs.record_output[-3000:]
    assert not cassette.exists()
    side = runs.cassettes / "bodies" / f"{hashlib.sha256(REFUSED_BODY).hexdigest()}.bin"
    assert not side.exists(), "the refused recording's request body was written"
    assert not written(runs, SERVICE_TOKEN)


def test_a_refusal_leaves_the_next_recording_intact(runs: Runs) -> None:
    problems = recorded_and_replayed(runs, AFTER_REFUSAL) + bodies_kept_whole(runs, AFTER_REFUSAL)
    assert not problems, f"{AFTER_REFUSAL.id} ({AFTER_REFUSAL.how}):\n" + "\n".join(problems)
