# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a host port is free for Docker to publish: the probe compose_project and compose_profile share.

Private to this collection. Only the standard library: the code runs on the managed host.
"""

from __future__ import annotations

import errno
import os
import socket


def endpoint(address, number):
    """"127.0.0.1:3000", or "[::1]:3000" for an IPv6 address."""
    return "[%s]:%s" % (address, number) if ":" in address else "%s:%s" % (address, number)


def port_in_use(address, number):
    """True when binding address:number (TCP) fails because another socket holds it."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As a server binds: connections that just closed (TIME_WAIT, e.g. through the port's own
    # docker-proxy a moment ago) do not hold the port; a listener does.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, number))
    except OverflowError:
        # Not a port number (over 65535): Compose refuses the project, not this probe.
        return False
    except OSError as exc:
        # Not an address of this host, or a privileged port for a non-root module: Docker decides.
        return exc.errno == errno.EADDRINUSE
    finally:
        sock.close()
    return False


def can_probe(environ=None):
    """False when DOCKER_HOST names a remote engine: its ports cannot be probed from here."""
    docker_host = (os.environ if environ is None else environ).get("DOCKER_HOST", "")
    return not docker_host or docker_host.startswith("unix://")
