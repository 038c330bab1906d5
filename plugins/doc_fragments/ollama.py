# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by the modules that talk to Ollama's HTTP API."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the Ollama server, without a path (Ollama listens on port 11434).
    type: str
    default: http://127.0.0.1:11434
  api_key:
    description:
      - "Token sent as C(Authorization: Bearer <api_key>)."
      - Ollama itself has no authentication; use this when an authenticating reverse proxy sits in front of it.
    type: str
  headers:
    description:
      - Extra HTTP headers sent with every request, for proxies that want something other than a bearer token.
      - Header values are not hidden from the task's output; put a secret in O(api_key), or use C(no_log) on the task.
    type: dict
    default: {}
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(api_url) is C(https://).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request (connecting, and every answer except the stream of a pull).
    type: int
    default: 30
"""
