// bench-noop-milter: the reference floor for milter cost in the end-to-end
// benchmark (issue 9). A libmilter filter that registers every callback,
// negotiates no SMFIP_NO*/NR_* step away (so the MTA sends every stage and
// waits for every reply), touches every body byte, and accepts at end of
// message. --add-header adds one header at end of message (what a real
// policy milter does); --nodelay sets TCP_NODELAY on the listening socket.
//
// Usage: bench-noop-milter --listen SPEC [--add-header] [--nodelay]
//   SPEC in libmilter syntax: inet:PORT@127.0.0.1 or unix:/path.
// Runs in the foreground until SIGTERM (libmilter's signal thread).
//
// Thread-safety: libmilter runs callbacks of different connections on
// different threads; the only shared state is atomic.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <libmilter/mfapi.h>

namespace {

std::atomic<uint64_t> g_messages{0};
std::atomic<uint32_t> g_checksum{0};
bool g_add_header = false;

struct Conn {
  uint32_t checksum = 0;
};

Conn* Get(SMFICTX* ctx) { return static_cast<Conn*>(smfi_getpriv(ctx)); }
char* Chars(const char* s) { return const_cast<char*>(s); }

extern "C" {
sfsistat OnConnect(SMFICTX* ctx, char*, _SOCK_ADDR*) {
  smfi_setpriv(ctx, new Conn);
  return SMFIS_CONTINUE;
}
sfsistat OnHelo(SMFICTX*, char*) { return SMFIS_CONTINUE; }
sfsistat OnEnvFrom(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat OnEnvRcpt(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat OnData(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat OnHeader(SMFICTX*, char*, char*) { return SMFIS_CONTINUE; }
sfsistat OnEoh(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat OnBody(SMFICTX* ctx, unsigned char* chunk, size_t size) {
  // Touch every byte, as any content filter must.
  if (Conn* c = Get(ctx); c != nullptr) {
    for (size_t i = 0; i < size; ++i) c->checksum = c->checksum * 31 + chunk[i];
  }
  return SMFIS_CONTINUE;
}
sfsistat OnEom(SMFICTX* ctx) {
  g_messages.fetch_add(1, std::memory_order_relaxed);
  if (Conn* c = Get(ctx); c != nullptr) g_checksum.fetch_xor(c->checksum, std::memory_order_relaxed);
  if (g_add_header) smfi_addheader(ctx, Chars("X-Bench-Noop"), Chars("yes"));
  return SMFIS_ACCEPT;
}
sfsistat OnAbort(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat OnClose(SMFICTX* ctx) {
  delete Get(ctx);
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}
}  // extern "C"

// libmilter keeps its listening socket to itself: find it among our
// descriptors (only one listener exists before smfi_main). Accepted sockets
// inherit TCP_NODELAY on Linux.
void SetNodelayOnListener() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(entry.path().filename().c_str());
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) continue;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on AF_UNIX
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  bool nodelay = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (a == "--add-header") {
      g_add_header = true;
    } else if (a == "--nodelay") {
      nodelay = true;
    } else {
      std::fprintf(stderr, "usage: %s --listen SPEC [--add-header] [--nodelay]\n", argv[0]);
      return 2;
    }
  }
  if (listen.empty()) {
    std::fprintf(stderr, "--listen is required\n");
    return 2;
  }
  smfiDesc desc{};
  desc.xxfi_name = Chars("bench-noop-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_helo = OnHelo;
  desc.xxfi_envfrom = OnEnvFrom;
  desc.xxfi_envrcpt = OnEnvRcpt;
  desc.xxfi_header = OnHeader;
  desc.xxfi_eoh = OnEoh;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = OnEom;
  desc.xxfi_abort = OnAbort;
  desc.xxfi_close = OnClose;
  desc.xxfi_data = OnData;
  if (smfi_setconn(listen.data()) == MI_FAILURE || smfi_register(desc) == MI_FAILURE ||
      smfi_opensocket(true) == MI_FAILURE) {
    std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
    return 1;
  }
  if (nodelay) SetNodelayOnListener();
  const int rc = smfi_main();
  std::fprintf(stderr, "bench-noop-milter: %llu messages, checksum %08x\n",
               static_cast<unsigned long long>(g_messages.load()), g_checksum.load());
  return rc == MI_SUCCESS ? 0 : 1;
}
