# Sourced by the shell tests that start servers on 127.0.0.1 (tests/daemon, tests/etcdctl).
#
# free_ports <count>: that many free TCP ports on 127.0.0.1. Picked at random BELOW the kernel's
# ephemeral range: a port from bind(0) lies inside that range, and between our closing it and
# the member binding it, any outgoing connection (etcdctl, a peer dial, a concurrently running
# test) may be given it as its local port. Ports below the range are never auto-assigned.
free_ports() {
  python3 -c '
import random, socket, sys
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
chosen, held = [], []
while len(chosen) < int(sys.argv[1]):
    port = random.randrange(10000, low)
    if port in chosen: continue
    s = socket.socket()
    try: s.bind(("127.0.0.1", port))
    except OSError: s.close(); continue
    held.append(s); chosen.append(port)
print(" ".join(map(str, chosen)))' "$1"
}
