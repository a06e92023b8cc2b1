"""Finding a free TCP port on 127.0.0.1 for the processes `kotacerdas run` starts."""

import socket


def free_port(preferred: int) -> int:
    """Return `preferred` if nothing listens on it, else a port the system picks.

    Another city, a test run or a partner's witness on the same machine may
    hold the usual port; the caller records the port it got.
    """
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free TCP port on 127.0.0.1")
