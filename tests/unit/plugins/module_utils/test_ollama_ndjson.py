"""The NDJSON reader and pull follower, on pull streams as Ollama writes them (fixtures/ollama)."""

import io
import pathlib

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_ndjson import (
    PullProgress,
    StreamError,
    StreamTruncated,
    iter_ndjson,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "ollama"


def follow(name):
    stream = io.BytesIO((FIXTURES / name).read_bytes())
    return PullProgress().consume(iter_ndjson(stream.readline))


def test_a_full_pull_succeeds_and_counts_every_downloaded_byte():
    progress = follow("pull_success.ndjson")
    assert progress.succeeded
    assert progress.last_status == "success"
    assert progress.bytes_transferred == 2019377376 + 1429 + 7711
    assert progress.total_bytes == 2019377376 + 1429 + 7711


def test_an_up_to_date_pull_transfers_nothing():
    progress = follow("pull_up_to_date.ndjson")
    assert progress.succeeded
    assert progress.bytes_transferred == 0


def test_a_resumed_pull_counts_only_what_this_stream_moved():
    progress = follow("pull_resumed.ndjson")
    assert progress.bytes_transferred == (2019377376 - 1073741824) + 7711


def test_unknown_model_error_line_is_raised_with_the_server_text():
    with pytest.raises(StreamError) as error:
        follow("pull_unknown_model.ndjson")
    assert error.value.message == "pull model manifest: file does not exist"
    assert error.value.last_status == "pulling manifest"


def test_disk_full_error_line_is_raised_with_the_last_status():
    with pytest.raises(StreamError) as error:
        follow("pull_disk_full.ndjson")
    assert "no space left on device" in error.value.message
    assert error.value.last_status == "pulling dde5aa3fc5ff"


@pytest.mark.parametrize("name", ["pull_cut_between_lines.ndjson", "pull_cut_mid_line.ndjson"])
def test_a_cut_stream_is_truncation_not_success(name):
    with pytest.raises(StreamTruncated) as error:
        follow(name)
    assert error.value.last_status == "pulling dde5aa3fc5ff"


def test_an_empty_stream_is_truncation():
    with pytest.raises(StreamTruncated, match="last status: none"):
        PullProgress().consume(iter_ndjson(io.BytesIO(b"").readline))


def test_blank_lines_and_crlf_are_tolerated():
    stream = io.BytesIO(b'{"status":"pulling manifest"}\r\n\n{"status":"success"}\r\n')
    assert [e["status"] for e in iter_ndjson(stream.readline)] == ["pulling manifest", "success"]


def test_a_complete_line_that_is_not_json_is_a_protocol_error():
    stream = io.BytesIO(b'{"status":"pulling manifest"}\n<html>proxy error</html>\n')
    with pytest.raises(ValueError, match="not JSON"):
        list(iter_ndjson(stream.readline))


def test_a_json_line_that_is_not_an_object_is_a_protocol_error():
    with pytest.raises(ValueError, match="not an object"):
        list(iter_ndjson(io.BytesIO(b"[1, 2]\n").readline))


def test_an_endless_line_is_refused_without_reading_it_whole():
    stream = io.BytesIO(b"x" * 5000)
    with pytest.raises(ValueError, match="longer than 1000 bytes"):
        list(iter_ndjson(stream.readline, max_line=1000))
    assert stream.tell() == 1001  # it read one line's worth plus one byte, no more


def test_reading_is_line_by_line():
    """The reader hands out each event before the next line is read (constant memory)."""
    reads = []
    stream = io.BytesIO((FIXTURES / "pull_success.ndjson").read_bytes())

    def readline(limit):
        reads.append(stream.tell())
        return stream.readline(limit)

    events = iter_ndjson(readline)
    next(events)
    assert len(reads) == 1
    next(events)
    assert len(reads) == 2
