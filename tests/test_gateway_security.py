"""The gateway's HTTP surface: security headers, no caching of patients' data, HSTS, CORS, the
limit per client address and the body limit, in-process; then the real `python -m gateway` over
HTTP (no Server banner, X-Forwarded-For trusted from the local proxy only)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.channels.conversation import RateLimiter
from gateway.core.config import gateway_settings
from gateway.core.security import client_key
from stack.cluster import nginx_conf
from stack.processes import ProcessGroup, Service, gateway_server

PUBLIC = "http://gateway.test"
CLINIC_SITE = "https://www.clinic.example"
FOREIGN_SITE = "https://evil.example"
PATIENT = ("203.0.113.5", 40000)
OTHER_PATIENT = ("198.51.100.7", 40001)

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.fixture
def make_client(database_url, monkeypatch):
    """A TestClient over a fresh `create_app()` with these settings (and the defaults here)."""
    clients = []

    def make(client=PATIENT, raise_server_exceptions=True, **env) -> TestClient:
        settings = {
            "PUBLIC_BASE_URL": PUBLIC,
            "WIDGET_ALLOWED_ORIGINS": CLINIC_SITE,
            "MAX_REQUEST_BYTES": "1000",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "1000",
            **env,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        gateway_settings.cache_clear()
        from gateway.main import create_app

        test_client = TestClient(
            create_app(),
            base_url=PUBLIC,
            client=client,
            raise_server_exceptions=raise_server_exceptions,
        )
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)
    gateway_settings.cache_clear()


def assert_secure(response: httpx.Response) -> None:
    """The headers every response carries, whatever answered it."""
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.headers)
    permissions = response.headers["permissions-policy"]
    assert "microphone=(self)" in permissions
    assert "camera=()" in permissions and "geolocation=()" in permissions
    assert "frame-ancestors" in response.headers["content-security-policy"]
    assert "server" not in response.headers
    assert "strict-transport-security" not in response.headers  # PUBLIC is http here


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/slots", 200),
        ("GET", "/api/widget/config", 200),
        ("GET", "/no/such/page", 404),
        ("DELETE", "/api/slots", 405),
        ("POST", "/api/consultations", 400),  # malformed
        ("POST", "/webhooks/telegram", 503),  # not configured here
    ],
)
def test_every_response_carries_the_security_headers(make_client, method, path, status):
    response = make_client().request(method, path, json={})
    assert response.status_code == status, response.text
    assert_secure(response)
    # A route without its own policy may not be framed, and loads nothing if opened.
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["x-frame-options"] == "DENY"


def test_patients_data_is_never_cached(make_client):
    client = make_client()
    for path in ("/api/slots", "/api/widget/config", "/api/nothing-here"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    assert client.post("/webhooks/telegram", json={}).headers["cache-control"] == "no-store"
    # The widget's script is not patients' data: browsers may keep it for a few minutes.
    assert client.get("/widget.js").headers["cache-control"] == "public, max-age=300"


def test_the_widget_page_keeps_its_own_strict_policy(make_client):
    response = make_client().get("/")
    assert response.status_code == 200 and "/widget.js" in response.text
    assert_secure(response)
    policy = dict(
        (part.split()[0], part.split()[1:])
        for part in response.headers["content-security-policy"].split("; ")
    )
    assert policy == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "connect-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'self'", CLINIC_SITE],
    }
    # The page's own frame-ancestors decides; X-Frame-Options: DENY would contradict it.
    assert "x-frame-options" not in response.headers


def test_the_api_docs_keep_working_and_cannot_be_framed(make_client):
    response = make_client().get("/docs")
    assert response.status_code == 200
    assert_secure(response)
    # Swagger UI loads its scripts from a CDN: only framing is forbidden on it.
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_only_when_the_public_address_is_https(make_client):
    assert "strict-transport-security" not in make_client().get("/health").headers
    secure = make_client(PUBLIC_BASE_URL="https://assistant.clinic.example")
    hsts = secure.get("/health").headers["strict-transport-security"]
    assert hsts.startswith("max-age=") and int(hsts.split(";")[0].split("=")[1]) >= 31536000


def test_even_an_unhandled_error_carries_the_headers(make_client):
    client = make_client(raise_server_exceptions=False)

    def broken():
        raise RuntimeError("a bug")

    client.app.add_api_route("/api/broken", broken)
    response = client.get("/api/broken")
    assert response.status_code == 500
    assert_secure(response)
    assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- body limit


def test_bodies_over_the_limit_get_413_with_the_headers(make_client):
    client = make_client()
    declared = client.post("/api/chat", content=b"x" * 1001, headers={"Origin": CLINIC_SITE})
    assert declared.status_code == 413 and "over 1000 bytes" in declared.json()["detail"]
    assert_secure(declared)
    assert declared.headers["cache-control"] == "no-store"
    # The widget can read why: the allowed origin's CORS header is on the refusal too.
    assert declared.headers["access-control-allow-origin"] == CLINIC_SITE

    streamed = client.post("/webhooks/telegram", content=iter([b"x" * 600, b"x" * 600]))
    assert streamed.status_code == 413
    assert_secure(streamed)

    malformed = client.post(
        "/api/chat", content=b"{}", headers={"Content-Length": "lots", "Origin": CLINIC_SITE}
    )
    assert malformed.status_code == 400 and malformed.json()["detail"]
    assert_secure(malformed)


# ---------------------------------------------------------------- CORS


def test_cors_answers_the_clinics_sites_only(make_client):
    client = make_client()
    for origin in (CLINIC_SITE, PUBLIC):
        allowed = client.get("/api/widget/config", headers={"Origin": origin})
        assert allowed.headers["access-control-allow-origin"] == origin
    foreign = client.get("/api/widget/config", headers={"Origin": FOREIGN_SITE})
    assert "access-control-allow-origin" not in foreign.headers
    # And the chat API itself refuses a foreign site's message.
    refused = client.post(
        "/api/chat",
        json={"sender": "abcdefgh-1234", "message": "hi"},
        headers={"Origin": FOREIGN_SITE},
    )
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


def test_cors_preflight_answers_the_clinics_sites_only(make_client):
    client = make_client()
    asking = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = client.options("/api/chat", headers={"Origin": CLINIC_SITE, **asking})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CLINIC_SITE
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert_secure(allowed)
    foreign = client.options("/api/chat", headers={"Origin": FOREIGN_SITE, **asking})
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    assert_secure(foreign)


# ---------------------------------------------------------------- limit per address


def test_one_address_gets_429_with_retry_after_past_its_limit(make_client):
    client = make_client(RATE_LIMIT_PER_IP_PER_MINUTE="4")
    # The page, its script, the docs and the API all count.
    for path in ("/", "/widget.js", "/docs", "/api/widget/config"):
        assert client.get(path).status_code == 200, path
    refused = client.get("/api/widget/config", headers={"Origin": CLINIC_SITE})
    assert refused.status_code == 429
    assert "too many requests" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert_secure(refused)
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["access-control-allow-origin"] == CLINIC_SITE  # the widget can read it
    assert client.get("/widget.js").status_code == 429

    # Another address on the same gateway is not held up.
    other = TestClient(client.app, base_url=PUBLIC, client=OTHER_PATIENT)
    assert other.get("/api/widget/config").status_code == 200


def test_webhooks_and_health_are_not_limited_per_address(make_client):
    client = make_client(RATE_LIMIT_PER_IP_PER_MINUTE="2")
    for _ in range(10):
        assert client.post("/webhooks/telegram", json={}).status_code == 503
        assert client.post("/webhooks/twilio/voice", data={}).status_code != 429
        assert client.get("/health").status_code == 200
    # ...and they used none of the address's allowance for everything else.
    assert [client.get("/api/widget/config").status_code for _ in range(3)] == [200, 200, 429]


def test_the_limiter_says_when_to_come_back_and_forgets_quiet_addresses():
    limiter = RateLimiter(2)
    assert limiter.allow("a", now=100) and limiter.allow("a", now=110)
    assert not limiter.allow("a", now=115)
    assert limiter.retry_after("a", now=115) == 45  # the request at 100 leaves at 160
    assert limiter.retry_after("a", now=159.5) == 1
    assert limiter.allow("a", now=160.5)
    limiter.allow("b", now=200)
    limiter.forget_idle(now=215)
    assert set(limiter._seen) == {"a", "b"}  # a's last request was at 160.5
    limiter.forget_idle(now=225)
    assert set(limiter._seen) == {"b"}
    limiter.forget_idle(now=261)
    assert limiter._seen == {}


def test_addresses_are_keyed_by_client_and_ipv6_by_its_64():
    assert client_key({"client": ("203.0.113.5", 1)}) == "203.0.113.5"
    assert client_key({"client": ("2001:db8:1:2:aaaa::1", 1)}) == "2001:db8:1:2::/64"
    assert client_key({"client": ("2001:db8:1:2:bbbb::9", 1)}) == "2001:db8:1:2::/64"
    assert client_key({"client": ("2001:db8:1:3::1", 1)}) == "2001:db8:1:3::/64"
    assert client_key({"client": ("::ffff:203.0.113.5", 1)}) == "203.0.113.5"
    assert client_key({"client": None}) == "unknown"


# ---------------------------------------------------------------- the real process over HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`python -m gateway` (uvicorn as in production), allowing 3 requests per address."""
    from clinic.store import upgrade_database

    tmp = tmp_path_factory.mktemp("security")
    database_url = f"sqlite:///{tmp / 'clinic.db'}"
    upgrade_database(database_url)
    port = free_port()
    service = gateway_server(
        port,
        {
            "DATABASE_URL": database_url,
            "TRACKER_DATABASE_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",  # nothing there
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "3",
        },
    )
    with Path(tmp / "gateway.log").open("w") as log, ProcessGroup([service], log=log):
        yield f"http://127.0.0.1:{port}"


def test_the_real_server_sends_no_banner_and_the_headers(served):
    response = httpx.get(f"{served}/health")
    assert response.status_code == 200
    assert "server" not in response.headers
    assert_secure(response)


def test_behind_the_local_proxy_each_forwarded_address_has_its_own_limit(served):
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS), as nginx sends it.
    def from_address(address: str) -> int:
        return httpx.get(
            f"{served}/api/widget/config", headers={"X-Forwarded-For": address}
        ).status_code

    assert [from_address("192.0.2.10") for _ in range(4)] == [200, 200, 200, 429]
    assert from_address("192.0.2.11") == 200
    # A client that names itself further left is still counted by the proxy's last hop.
    assert from_address("192.0.2.99, 192.0.2.10") == 429


def test_behind_the_clusters_nginx_a_client_cannot_choose_its_own_address(served, tmp_path):
    # stack/cluster.py's nginx replaces X-Forwarded-For with the address that connected to it.
    directory, port = tmp_path / "nginx", free_port()
    directory.mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(nginx_conf(directory, {"gateways": (port, [int(served.rsplit(":", 1)[1])])}))
    nginx = Service(
        "nginx",
        ["/usr/sbin/nginx", "-c", str(conf), "-p", str(directory)],
        f"http://127.0.0.1:{port}/health",
    )
    with (tmp_path / "nginx.log").open("w") as log, ProcessGroup([nginx], log=log):
        codes = [
            httpx.get(
                f"http://127.0.0.1:{port}/api/widget/config",
                headers={"X-Forwarded-For": f"192.0.2.{200 + n}"},
            ).status_code
            for n in range(4)
        ]
    assert codes == [200, 200, 200, 429]
