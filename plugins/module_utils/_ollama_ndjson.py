# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading Ollama's NDJSON progress streams (pull, create) one line at a time.

Ollama streams one JSON object per line. An error after the first line cannot change the
HTTP status any more, so it arrives as a last line ``{"error": "..."}``; a stream that stops
without ``{"status": "success"}`` was cut (proxy, restart, network). Memory use is one line,
whatever the size of the model being pulled.
"""

from __future__ import annotations

import json

MAX_LINE = 1 << 20  # progress lines are ~200 bytes; anything near this is not Ollama


class StreamError(Exception):
    """The server reported an error inside the stream (its own message, verbatim)."""

    def __init__(self, message, last_status=None):
        super().__init__(message)
        self.message = message
        self.last_status = last_status


class StreamTruncated(Exception):
    """The stream ended (or broke off) before its final status: worth retrying."""

    def __init__(self, reason, last_status=None):
        super().__init__(reason)
        self.reason = reason
        self.last_status = last_status


def iter_ndjson(readline, max_line=MAX_LINE):
    """Yield each JSON object of a stream; readline(limit) returns bytes, b"" at the end.

    A last line without its newline that does not parse is a cut stream (StreamTruncated);
    a complete line that does not parse is a protocol error (ValueError).
    """
    while True:
        line = readline(max_line + 1)
        if not line:
            return
        complete = line.endswith(b"\n")
        if not complete and len(line) > max_line:
            raise ValueError("a stream line is longer than %d bytes: this is not an Ollama progress stream"
                             % max_line)
        text = line.strip()
        if not text:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            if not complete:
                raise StreamTruncated("the stream broke off in the middle of a line") from None
            raise ValueError("the server sent a line that is not JSON: %r" % text[:200]) from None
        if not isinstance(value, dict):
            raise ValueError("the server sent a JSON line that is not an object: %r" % text[:200])
        yield value


class PullProgress:
    """Follows one pull stream: final status, layers, and bytes actually downloaded.

    A layer already on disk is reported once with completed == total and counts as 0 bytes;
    a resumed layer starts at its partial size, so only what this stream moved is counted.
    """

    def __init__(self):
        self.last_status = None
        self.succeeded = False
        self.lines = 0
        self._layers = {}  # digest -> [first completed seen, last completed seen, total]

    def feed(self, event):
        self.lines += 1
        if "error" in event:
            raise StreamError(str(event["error"]), self.last_status)
        status = event.get("status")
        if status is not None:
            self.last_status = status
        digest = event.get("digest")
        if digest:
            completed = int(event.get("completed") or 0)
            layer = self._layers.get(digest)
            if layer is None:
                self._layers[digest] = [completed, completed, int(event.get("total") or 0)]
            else:
                layer[1] = max(layer[1], completed)
        if status == "success":
            self.succeeded = True

    @property
    def bytes_transferred(self):
        return sum(last - first for first, last, _total in self._layers.values())

    @property
    def total_bytes(self):
        return sum(total for _first, _last, total in self._layers.values())

    def consume(self, events):
        """Feed every event; raise StreamTruncated if the stream ends before "success"."""
        try:
            for event in events:
                self.feed(event)
        except StreamTruncated as error:
            raise StreamTruncated(error.reason, self.last_status) from None
        if not self.succeeded:
            raise StreamTruncated(
                "the stream ended before the pull finished (last status: %s)" % (self.last_status or "none"),
                self.last_status)
        return self
