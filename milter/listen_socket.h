// Socket options libmilter does not offer on the socket it listens on.
//
// TCP_NODELAY: at end of message hive-milter writes several small replies
// back to back (header edits, then the verdict). With Nagle's algorithm the
// second waits for the ACK of the first, and the MTA delays that ACK (Linux:
// up to 40 ms) because it is itself waiting for the verdict: ~45 ms per
// message over TCP (issue 9). Accepted sockets inherit TCP_NODELAY from the
// listener on Linux, so setting it once on the listener covers every MTA
// connection.
//
// Usage: after smfi_opensocket(), before any other thread opens sockets.
// Thread-safety: call once, from main, before smfi_main().
#pragma once

#include <vector>

namespace hive::milter {

// The listening sockets of this process now (descriptors).
std::vector<int> ListeningSockets();

// Sets TCP_NODELAY on every listening TCP socket of this process (the
// milter's, opened by smfi_opensocket). Returns how many it set; 0 for a
// UNIX socket listener, which has no Nagle delay.
int SetNoDelayOnListeningSockets();

}  // namespace hive::milter
