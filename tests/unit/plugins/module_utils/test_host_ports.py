"""The host port probe: a listener holds a port, connections that just closed do not."""

import socket

from ansible_collections.aistack.selfhosted.plugins.module_utils._host_ports import can_probe, endpoint, port_in_use


def test_port_in_use_only_when_another_socket_holds_it():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert port_in_use("127.0.0.1", busy)
        # Every address (0.0.0.0) includes the one held.
        assert port_in_use("0.0.0.0", busy)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert not port_in_use("127.0.0.1", free)
    # An address this host does not have, or no port number, is Docker's or Compose's to refuse, not a clash.
    assert not port_in_use("192.0.2.1", free)
    assert not port_in_use("127.0.0.1", 70000)


def test_connections_that_just_closed_do_not_hold_the_port():
    """A service's port right after `compose down`: TIME_WAIT sockets only, free for Docker."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _peer = server.accept()
        accepted.close()  # the server side closes first: its end stays in TIME_WAIT
        client.close()
    assert not port_in_use("127.0.0.1", port)


def test_endpoint_brackets_ipv6():
    assert endpoint("127.0.0.1", 3000) == "127.0.0.1:3000"
    assert endpoint("::1", 3000) == "[::1]:3000"


def test_a_remote_engine_cannot_be_probed():
    assert can_probe({})
    assert can_probe({"DOCKER_HOST": "unix:///run/docker.sock"})
    assert not can_probe({"DOCKER_HOST": "tcp://10.0.0.9:2376"})
