"""Fetching sources: local paths and URLs, checksums, retries, and nothing left behind on failure."""

import hashlib
import http.server
import threading

import pytest

from torchbasics.core import fetch as fetch_module
from torchbasics.core.errors import InputError
from torchbasics.core.fetch import fetch, is_url, parse_checksum, verify_checksum

PAYLOAD = b"torchbasics test payload\n" * 1000
MD5 = "md5:" + hashlib.md5(PAYLOAD).hexdigest()
SHA256 = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def source_file(tmp_path):
    path = tmp_path / "source.bin"
    path.write_bytes(PAYLOAD)
    return path


@pytest.fixture
def no_sleep(monkeypatch):
    sleeps = []
    monkeypatch.setattr(fetch_module.time, "sleep", sleeps.append)
    return sleeps


class PayloadHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /ok, a body cut short at /short, 404 at anything else."""

    def do_GET(self):
        if self.path in ("/ok", "/short"):
            body = PAYLOAD if self.path == "/ok" else PAYLOAD[:100]
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PayloadHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_is_url():
    assert is_url("https://example.org/a.tar.gz") and is_url("file:///tmp/x") and is_url("http://h/x")
    assert not is_url("../shared/data/x.tar.gz") and not is_url("/abs/path") and not is_url("C:/data/x")


@pytest.mark.parametrize("checksum", ["md5:123", "crc32:" + "0" * 8, "sha256:" + "g" * 64, "nocolon"])
def test_malformed_checksum_is_refused(checksum):
    with pytest.raises(InputError, match="malformed checksum"):
        parse_checksum(checksum)


@pytest.mark.parametrize("checksum", [MD5, SHA256, MD5.upper().replace("MD5", "md5")])
def test_local_copy_verified(tmp_path, source_file, checksum):
    target = tmp_path / "out" / "copy"
    fetch(str(source_file), target, checksum)
    assert target.read_bytes() == PAYLOAD


def test_file_url(tmp_path, source_file):
    target = tmp_path / "copy"
    fetch(source_file.as_uri(), target, SHA256)
    assert target.read_bytes() == PAYLOAD


def test_checksum_mismatch_names_file_and_setting_and_leaves_nothing(tmp_path, source_file):
    target = tmp_path / "out" / "copy"
    wrong = "md5:" + "0" * 32
    with pytest.raises(InputError, match=r"checksum mismatch .* data.cifar10.checksum expects 0{32}"):
        fetch(str(source_file), target, wrong, setting="data.cifar10.source")
    assert list((tmp_path / "out").iterdir()) == []


def test_verify_checksum_reports_what_it_confirmed(source_file):
    assert verify_checksum(source_file, SHA256) == SHA256
    assert verify_checksum(source_file, None) is None


def test_missing_local_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        fetch(str(tmp_path / "nope"), tmp_path / "copy")


def test_http_download(tmp_path, server):
    target = tmp_path / "copy"
    fetch(f"{server}/ok", target, MD5)
    assert target.read_bytes() == PAYLOAD


def test_truncated_download_is_retried_then_refused(tmp_path, server, no_sleep):
    target = tmp_path / "out" / "copy"
    with pytest.raises(InputError, match="after 3 attempt"):
        fetch(f"{server}/short", target, retries=2)
    assert len(no_sleep) == 2  # two waits between three attempts, growing
    assert no_sleep[1] > no_sleep[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_http_404_is_not_retried(tmp_path, server, no_sleep):
    with pytest.raises(InputError, match="HTTP 404"):
        fetch(f"{server}/missing", tmp_path / "copy", retries=3)
    assert no_sleep == []


def test_unreachable_url_says_how_to_use_a_local_file(tmp_path, no_sleep):
    # port 9 (discard) on loopback: nothing listens, the connection is refused at once
    with pytest.raises(
        InputError, match=r"could not download .* --config 'data=\{parrot: \{noisy: \{source: /path/to/file\}\}\}'"
    ):
        fetch("http://127.0.0.1:9/parrot.png", tmp_path / "copy", retries=1, setting="data.parrot.noisy.source")
    assert len(no_sleep) == 1
    assert not (tmp_path / "copy").exists()
