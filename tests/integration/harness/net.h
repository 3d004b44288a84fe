// Loopback helpers for tests: free ports, waiting for a listener, scraping
// a Prometheus endpoint.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hive::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound, closed), in
// 10000-19999: below the kernel's ephemeral range, so no client connection
// takes it meanwhile. Each call returns a different port within one
// process, and no two live test processes get the same one (claims in
// /tmp/hive-test-ports).
uint16_t FreePort();

// True once something accepts TCP connections on 127.0.0.1:port ([::1]:port
// with ipv6).
bool WaitForListener(uint16_t port, std::chrono::milliseconds timeout, bool ipv6 = false);
// The same on another local address (IPv4 or IPv6, numeric).
bool WaitForListener(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// GET /metrics on 127.0.0.1:port (a 5 s receive timeout); the body of a
// 200 answer, or "" on any failure.
std::string ScrapeMetrics(uint16_t port);

// The value of one series ("name{labels}" exactly as rendered) in what
// ScrapeMetrics returned; -1 when absent.
double MetricValue(const std::string& text, const std::string& series);

}  // namespace hive::testing
