"""Download links: the data travels in the link, the file name is made safe."""

from __future__ import annotations

import base64
import re

import pytest

from bearing_workbench.panels.kit.download import DownloadLink, download_html, safe_filename


def test_link_carries_the_bytes_and_a_safe_name():
    text = download_html('../x "y".csv', "a,b\n1,2\n", "text/csv", "history <CSV>")
    assert 'download="x_y_.csv"' in text and "history &lt;CSV&gt;" in text
    payload = re.search(r'href="data:text/csv;base64,([^"]+)"', text).group(1)
    assert base64.b64decode(payload) == b"a,b\n1,2\n"
    assert safe_filename("") == "download" and safe_filename("a/b\\c.json") == "c.json"


def test_bad_mime_and_widget_states():
    with pytest.raises(ValueError, match="mime"):
        download_html("x", b"", "text/csv;<script>", "x")
    link = DownloadLink("metrics.json", "m.json", "application/json")
    assert "href" not in link.value and "metrics.json" in link.value
    link.set_data(b'{"a": 1}')
    assert "application/json;base64" in link.value and link.size == 8
    link.set_data(None)
    assert "href" not in link.value and link.size == 0
