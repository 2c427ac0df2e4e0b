"""`bearing-workbench serve` over real HTTP and websockets: the token is required, a kernel runs no code
sent to it, idle kernels are culled, no page refers to a CDN."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .conftest import (
    Server,
    end_server,
    http_get,
    kernel_id_of,
    start_server,
    wait_for,
    write_notebook,
)

PROBE_SOURCE = "import ipywidgets\nipywidgets.IntSlider(description='probe')"


@pytest.fixture(scope="module")
def server(workspace_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Serving one small app (a slider); idle kernels culled after 3 s."""
    apps = tmp_path_factory.mktemp("apps")
    write_notebook(apps / "probe.ipynb", PROBE_SOURCE)
    srv = start_server(workspace_root, apps, "--cull-idle-timeout", "3", "--cull-interval", "1")
    yield srv
    end_server(srv)


def _refused(status: int, headers: dict[str, str]) -> bool:
    location = headers.get("Location", "")
    return status in (401, 403) or (status == 302 and location.startswith("/login"))


def test_without_the_token_nothing_is_served(server: Server) -> None:
    for path in ("/", "/voila/render/probe.ipynb", "/voila/tree", "/api/kernels/" + str(uuid.uuid4())):
        for url in (server.url(path, token=False), server.url(path, token=False, token_="wrong")):
            url = url.replace("token_=", "token=")
            response = http_get(url)
            assert _refused(response.status, response.headers), (url, response.status, response.text[:300])
            assert "kernelId" not in response.text
    assert "Kernel started" not in server.log()  # no kernel was started for a refused request


def test_with_the_token_the_app_is_served(server: Server) -> None:
    page = http_get(server.app_url("probe"))
    assert page.status == 200
    assert kernel_id_of(page.text)
    home = http_get(server.url("/"))  # the home page lists the apps
    assert home.status == 200 and 'href="/voila/render/probe.ipynb"' in home.text
    listing = json.loads(http_get(server.url("/voila/api/contents/")).text)
    assert [item["name"] for item in listing["content"]] == ["probe.ipynb"]
    assert http_get(server.url("/voila/api/contents/", token=False)).status in (401, 403, 302)


def test_the_home_page_without_the_token_leads_to_the_login_page_and_shows_no_data(server: Server) -> None:
    home = http_get(server.url("/", token=False))
    assert home.status == 302 and home.headers["Location"].startswith("/login?next=")
    login = http_get(server.base + home.headers["Location"])
    assert login.status == 200
    assert "Where is the token?" in login.text and "bearing-workbench serve" in login.text
    assert "BEARING_WORKBENCH_TOKEN" in login.text  # where this server's token came from
    for data in ("probe", "Latest runs", "tiny", "healthy", "tcp://", server.token, str(server.workspace)):
        assert data not in login.text, data
    wrong = http_get(server.url("/", token=False, token_="wrong").replace("token_=", "token="))
    assert wrong.status == 302 and "probe" not in wrong.text


TRAVERSALS = (
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "%2Fetc%2Fpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "....//....//etc/passwd",
    "a%00b",
)


@pytest.mark.parametrize("route", ["/voila/static/", "/voila/templates/", "/voila/templates/lab/static/"])
def test_an_encoded_traversal_on_a_static_route_is_not_found(server: Server, route: str) -> None:
    for path in TRAVERSALS:
        for token in (False, True):
            response = http_get(server.url(route + path, token=token))
            assert response.status == 404, (route + path, response.status, response.text[:200])
            assert "root:" not in response.text
    assert http_get(server.url("/voila/static/voila.js", token=False)).status == 200  # still served


def test_pages_fetch_nothing_from_outside(server: Server) -> None:
    """Every script, stylesheet and image the pages name is served by this server (or inline data)."""
    for url in (server.url("/"), server.url("/login"), server.app_url("probe"), server.app_url("missing")):
        page = http_get(url).text
        for attr in re.findall(r'(?:src|href)="([^"]*)"', page):
            assert attr.startswith(("/", "data:", "#")) or not re.match(r"[a-z]+:", attr), (url, attr)


def _ws(server: Server, kernel_id: str, *, token: bool = True) -> ClientConnection:
    url = server.url(f"/api/kernels/{kernel_id}/channels", token=token).replace("http://", "ws://")
    return connect(url, open_timeout=30, max_size=None)


def _message(msg_type: str, content: dict, channel: str = "shell") -> dict:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "attacker",
            "session": uuid.uuid4().hex,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


def _replies_until(ws: ClientConnection, parent_msg_id: str, timeout: float = 30.0) -> list[dict]:
    """Every message received until the reply to `parent_msg_id` (which is the last one)."""
    seen = []
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        seen.append(message)
        if message.get("parent_header", {}).get("msg_id") == parent_msg_id and message["msg_type"].endswith(
            "_reply"
        ):
            return seen


def test_websocket_needs_the_token(server: Server) -> None:
    kernel_id = kernel_id_of(http_get(server.app_url("probe")).text)
    with pytest.raises(InvalidStatus) as refused:
        _ws(server, kernel_id, token=False).close()
    assert refused.value.response.status_code in (401, 403)


def test_raw_execute_request_over_the_websocket_runs_nothing(server: Server, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    kernel_id = kernel_id_of(http_get(server.app_url("probe")).text)
    with _ws(server, kernel_id) as ws:
        # The channel is live: an allowed request gets its reply.
        info = _message("kernel_info_request", {})
        ws.send(json.dumps(info))
        assert _replies_until(ws, info["header"]["msg_id"])[-1]["msg_type"] == "kernel_info_reply"

        execute = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
        attempts = [_message("execute_request", execute, channel) for channel in ("shell", "control")]
        attempts.append(_message("inspect_request", {"code": code, "cursor_pos": 0, "detail_level": 0}))
        attempts.append(_message("complete_request", {"code": code, "cursor_pos": len(code)}))
        for attempt in attempts:
            ws.send(json.dumps(attempt))
        # The shell channel is served in order: once this reply is back, the kernel has handled
        # everything sent before it that reached it.
        after = _message("kernel_info_request", {})
        ws.send(json.dumps(after))
        received = _replies_until(ws, after["header"]["msg_id"])
    answered = {m.get("parent_header", {}).get("msg_id") for m in received}
    assert not answered & {a["header"]["msg_id"] for a in attempts}, received
    assert not any(m["msg_type"] in ("execute_reply", "execute_result", "stream") for m in received)
    assert not marker.exists()


def test_idle_kernels_are_culled(server: Server) -> None:
    kernel_id = kernel_id_of(http_get(server.app_url("probe")).text)
    assert http_get(server.url(f"/api/kernels/{kernel_id}")).status == 200
    wait_for(
        lambda: http_get(server.url(f"/api/kernels/{kernel_id}")).status == 404,
        f"the idle kernel {kernel_id} to be culled",
        timeout=60,
    )
    assert "Culling kernel" in server.log()
