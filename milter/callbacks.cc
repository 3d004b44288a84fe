#include "milter/callbacks.h"

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <libmilter/mfapi.h>

#include "absl/strings/str_cat.h"
#include "milter/actions.h"
#include "milter/session.h"
#include "support/log.h"

namespace hive::milter {
namespace {

struct Runtime {
  std::shared_ptr<const Settings> settings;
  PolicyClient* policy = nullptr;
  LeaseTable* leases = nullptr;
  StagePlan* stages = nullptr;
};

std::mutex g_runtime_mu;
Runtime g_runtime;
std::atomic<int> g_active_sessions{0};

Runtime CurrentRuntime() {
  std::lock_guard lock(g_runtime_mu);
  return g_runtime;
}

Session* GetSession(SMFICTX* ctx) { return static_cast<Session*>(smfi_getpriv(ctx)); }

sfsistat ToSmfis(Status status) {
  switch (status) {
    case Status::kContinue: return SMFIS_CONTINUE;
    case Status::kTempfail: return SMFIS_TEMPFAIL;
    case Status::kReject: return SMFIS_REJECT;
    case Status::kDiscard: return SMFIS_DISCARD;
  }
  return SMFIS_TEMPFAIL;
}

// A reply for failures of the milter itself (no session, exception).
void SetInternalErrorReply(SMFICTX* ctx) {
  char code[] = "451";
  char xcode[] = "4.3.0";
  char text[] = "internal error in the mail filter, try again later";
  smfi_setreply(ctx, code, xcode, text);
}

// Runs `body` on the connection's session; any failure becomes tempfail.
template <typename Body>
sfsistat Guard(SMFICTX* ctx, const char* stage, Body&& body) {
  try {
    Session* session = GetSession(ctx);
    if (session == nullptr) {
      hive::log::Error(absl::StrCat(stage, ": no session for this connection; tempfail"));
      SetInternalErrorReply(ctx);
      return SMFIS_TEMPFAIL;
    }
    LibmilterActions mta(ctx);
    return ToSmfis(body(*session, mta));
  } catch (const std::exception& e) {
    hive::log::Error(absl::StrCat(stage, ": ", hive::log::Sanitize(e.what()), "; tempfail"));
  } catch (...) {
    hive::log::Error(absl::StrCat(stage, ": unknown exception; tempfail"));
  }
  try {
    SetInternalErrorReply(ctx);
  } catch (...) {
  }
  return SMFIS_TEMPFAIL;
}

std::vector<std::string> Argv(char** argv) {
  std::vector<std::string> out;
  for (int i = 0; argv != nullptr && argv[i] != nullptr; ++i) out.emplace_back(argv[i]);
  return out;
}

char* Chars(const char* s) { return const_cast<char*>(s); }

// Whether DATA and end of headers are skipped and HELO, header and body
// negotiated without reply: on a UNIX socket only (see HiveNegotiate).
// Fixed by InstallRuntime; the listen socket does not change on reload.
std::atomic<bool> g_no_reply_stages{false};
// Whether MAIL is negotiated without reply too: on a UNIX socket with
// sender_limits_at_first_rcpt, which makes MAIL never refuse (the sender is
// decided with the first RCPT). Read at start only, like the socket.
std::atomic<bool> g_no_reply_mail{false};

// For a stage negotiated without reply (SMFIP_NR_*), libmilter expects
// SMFIS_NOREPLY; anything else it logs as a broken promise (and still sends
// nothing). A refusal cannot be given at such a stage: the session keeps
// the state and end of message decides.
sfsistat NoReply(sfsistat status) {
  return status == SMFIS_CONTINUE && g_no_reply_stages.load(std::memory_order_relaxed) ? SMFIS_NOREPLY : status;
}

}  // namespace

int ActiveSessions() { return g_active_sessions.load(); }

void InstallRuntime(std::shared_ptr<const Settings> settings, PolicyClient* policy, LeaseTable* leases,
                    StagePlan* stages) {
  if (settings != nullptr) {
    const std::string& listen = settings->listen;
    const bool unix_socket = listen.rfind("unix:", 0) == 0 || listen.rfind("local:", 0) == 0;
    g_no_reply_stages.store(unix_socket);
    g_no_reply_mail.store(unix_socket && settings->sender_limits_at_first_rcpt);
  }
  std::lock_guard lock(g_runtime_mu);
  g_runtime = Runtime{std::move(settings), policy, leases, stages};
}

extern "C" {

static sfsistat HiveNegotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                              unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                              unsigned long* pf3) {
  try {
    const unsigned long wanted = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    // Ask only for what this MTA offers; a missing edit fails at EOM
    // (tempfail) rather than the whole connection here.
    *pf0 = wanted & f0;
    // Keep header values as libmilter gives them (no SMFIP_HDR_LEADSPC);
    // unknown commands are not ours. The MDS bits let a libmilter built
    // with _FFR_MDS_NEGOTIATE accept a 100 KB header; main also raises
    // smfi_setmaxdatasize.
    unsigned long steps = SMFIP_NOUNKNOWN | SMFIP_MDS_256K;
    // Every step costs the MTA a round trip (issue 9). On a UNIX socket,
    // skip what the policy does not use -- DATA and end of headers carry
    // only the queue id, read again at end of message -- and let the MTA
    // send HELO, headers and body (and MAIL, see g_no_reply_mail) without
    // waiting for a reply (they never refuse; libmilter offers SMFIP_NR_*
    // even when the MTA lacks them, and then answers for us). NR_BODY rules
    // out SMFIS_SKIP, which needs a reply. Not over TCP: Postfix does not
    // set TCP_NODELAY on its milter connections, and with fewer replies its
    // back-to-back small writes meet Nagle and our delayed ACK -- measured
    // +50 ms per message; skipping only DATA and end of headers over TCP
    // still costs +45 ms (docs/benchmarks.md, round 3).
    if (g_no_reply_stages.load(std::memory_order_relaxed)) {
      steps |= SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_BODY;
      if (g_no_reply_mail.load(std::memory_order_relaxed)) steps |= SMFIP_NR_MAIL;
    }
    *pf1 = f1 & steps;
    *pf2 = 0;
    *pf3 = 0;
    if ((f0 & SMFIF_SETSYMLIST) != 0) {
      smfi_setsymlist(ctx, SMFIM_CONNECT,
                      Chars("j {daemon_name} {daemon_addr} {if_addr} {client_addr} {client_port} {client_name} "
                            "{client_ptr} _"));
      smfi_setsymlist(ctx, SMFIM_HELO,
                      Chars("{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}"));
      smfi_setsymlist(ctx, SMFIM_ENVFROM, Chars("i {auth_type} {auth_authen} {auth_author} {mail_addr}"));
      smfi_setsymlist(ctx, SMFIM_ENVRCPT, Chars("i {rcpt_addr}"));
      smfi_setsymlist(ctx, SMFIM_DATA, Chars("i"));
      smfi_setsymlist(ctx, SMFIM_EOH, Chars("i"));
      smfi_setsymlist(ctx, SMFIM_EOM, Chars("i"));
    }
    return SMFIS_CONTINUE;
  } catch (...) {
    hive::log::Error("negotiate: exception; refusing the connection");
    return SMFIS_REJECT;
  }
}

static sfsistat HiveConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
  try {
    Runtime runtime = CurrentRuntime();
    if (runtime.settings == nullptr || runtime.policy == nullptr) {
      hive::log::Error("connect: milter not initialised; tempfail");
      SetInternalErrorReply(ctx);
      return SMFIS_TEMPFAIL;
    }
    // A connect without close for this context (should not happen): free it.
    std::unique_ptr<Session> stale(GetSession(ctx));
    smfi_setpriv(ctx, nullptr);
    if (stale != nullptr) {
      stale.reset();
      g_active_sessions.fetch_sub(1);
    }
    auto session = std::make_unique<Session>(runtime.settings, *runtime.policy, Session::IdGenerator{}, runtime.leases,
                                             runtime.stages);
    smfi_setpriv(ctx, session.get());
    Session* owned = session.release();  // owned through smfi_getpriv until HiveClose
    g_active_sessions.fetch_add(1);
    LibmilterActions mta(ctx);
    return ToSmfis(owned->OnConnect(mta, hostname != nullptr ? hostname : "", hostaddr));
  } catch (const std::exception& e) {
    hive::log::Error(absl::StrCat("connect: ", hive::log::Sanitize(e.what()), "; tempfail"));
  } catch (...) {
    hive::log::Error("connect: unknown exception; tempfail");
  }
  SetInternalErrorReply(ctx);
  return SMFIS_TEMPFAIL;
}

static sfsistat HiveHelo(SMFICTX* ctx, char* helo) {
  return NoReply(
      Guard(ctx, "helo", [&](Session& s, Actions& a) { return s.OnHelo(a, helo != nullptr ? helo : ""); }));
}

static sfsistat HiveEnvFrom(SMFICTX* ctx, char** argv) {
  const sfsistat status = Guard(ctx, "mail", [&](Session& s, Actions& a) { return s.OnEnvFrom(a, Argv(argv)); });
  return status == SMFIS_CONTINUE && g_no_reply_mail.load(std::memory_order_relaxed) ? SMFIS_NOREPLY : status;
}

static sfsistat HiveEnvRcpt(SMFICTX* ctx, char** argv) {
  return Guard(ctx, "rcpt", [&](Session& s, Actions& a) { return s.OnEnvRcpt(a, Argv(argv)); });
}

static sfsistat HiveData(SMFICTX* ctx) {
  return Guard(ctx, "data", [&](Session& s, Actions& a) { return s.OnData(a); });
}

static sfsistat HiveHeader(SMFICTX* ctx, char* name, char* value) {
  return NoReply(Guard(ctx, "header", [&](Session& s, Actions& a) {
    return s.OnHeader(a, name != nullptr ? name : "", value != nullptr ? value : "");
  }));
}

static sfsistat HiveEoh(SMFICTX* ctx) {
  return Guard(ctx, "eoh", [&](Session& s, Actions& a) { return s.OnEndOfHeaders(a); });
}

static sfsistat HiveBody(SMFICTX* ctx, unsigned char* chunk, size_t size) {
  return NoReply(Guard(ctx, "body", [&](Session& s, Actions& a) {
    return s.OnBody(a, std::string_view(reinterpret_cast<const char*>(chunk), chunk != nullptr ? size : 0));
  }));
}

static sfsistat HiveEom(SMFICTX* ctx) {
  return Guard(ctx, "eom", [&](Session& s, Actions& a) { return s.OnEndOfMessage(a); });
}

static sfsistat HiveAbort(SMFICTX* ctx) {
  // The MTA ignores what abort returns; there is no reply to set.
  try {
    if (Session* session = GetSession(ctx); session != nullptr) {
      LibmilterActions mta(ctx);
      session->OnAbort(mta);
    }
  } catch (const std::exception& e) {
    hive::log::Error(absl::StrCat("abort: ", hive::log::Sanitize(e.what())));
  } catch (...) {
    hive::log::Error("abort: unknown exception");
  }
  return SMFIS_CONTINUE;
}

static sfsistat HiveClose(SMFICTX* ctx) {
  try {
    std::unique_ptr<Session> session(GetSession(ctx));
    smfi_setpriv(ctx, nullptr);
    if (session != nullptr) {
      // Counted down even if OnClose throws: the session is gone either way.
      struct CountDown {
        ~CountDown() { g_active_sessions.fetch_sub(1); }
      } count_down;
      LibmilterActions mta(ctx);
      session->OnClose(mta);
      session.reset();
    }
  } catch (const std::exception& e) {
    hive::log::Error(absl::StrCat("close: ", hive::log::Sanitize(e.what())));
  } catch (...) {
    hive::log::Error("close: unknown exception");
  }
  return SMFIS_CONTINUE;
}

}  // extern "C"

smfiDesc FilterDescription() {
  smfiDesc desc{};
  desc.xxfi_name = Chars("hive-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
  desc.xxfi_connect = HiveConnect;
  desc.xxfi_helo = HiveHelo;
  desc.xxfi_envfrom = HiveEnvFrom;
  desc.xxfi_envrcpt = HiveEnvRcpt;
  desc.xxfi_header = HiveHeader;
  desc.xxfi_eoh = HiveEoh;
  desc.xxfi_body = HiveBody;
  desc.xxfi_eom = HiveEom;
  desc.xxfi_abort = HiveAbort;
  desc.xxfi_close = HiveClose;
  desc.xxfi_unknown = nullptr;
  desc.xxfi_data = HiveData;
  desc.xxfi_negotiate = HiveNegotiate;
  return desc;
}

}  // namespace hive::milter
