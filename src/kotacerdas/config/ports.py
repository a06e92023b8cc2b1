"""Finding a free TCP port on 127.0.0.1 for the processes `kotacerdas run` starts."""

import socket


def free_port(preferred: int) -> int:
    """Return `preferred` if nothing listens on it, else a port the system picks.

    Another city, a test run or a partner's witness on the same machine may
    hold the usual port; the caller records the port it got.
    """
    for port in (preferred, 0):
        with socket.socket() as probe:
            # As the servers themselves do: a port whose last connections
            # still wait in TIME_WAIT after a restart is free to listen on.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free TCP port on 127.0.0.1")
