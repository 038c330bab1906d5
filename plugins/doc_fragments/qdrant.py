# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by the modules that talk to Qdrant's HTTP API."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Qdrant's HTTP API (port 6333 by default), without a path.
    type: str
    default: http://127.0.0.1:6333
  api_key:
    description:
      - Qdrant's API key (C(service.api_key) in its config), sent in the C(api-key) header.
      - Needed whenever the server has a key; a read-only key cannot change collections.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(url) is C(https://).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 30
"""
