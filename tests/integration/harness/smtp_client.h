// A small blocking SMTP client for tests: one session on 127.0.0.1 or ::1,
// each command's reply returned as it came, so a test can assert at which
// stage a message was refused. STARTTLS (OpenSSL, the server's certificate is
// not verified: tests use throwaway self-signed ones) and AUTH PLAIN. Every
// read and write is bounded by a timeout.
// Not thread-safe; one per session.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;

namespace hive::testing {

struct SmtpReply {
  int code = 0;      // 0: no reply (connection lost, timeout)
  std::string text;  // all lines, "\n"-joined, without the codes

  bool positive() const { return code >= 200 && code < 400; }
  std::string ToString() const { return std::to_string(code) + " " + text; }
};

class SmtpClient {
 public:
  explicit SmtpClient(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // Connects and returns the greeting.
  SmtpReply Connect(uint16_t port, bool ipv6 = false);
  SmtpReply Command(const std::string& line);
  // STARTTLS, then the TLS handshake; the reply to STARTTLS, or code 0 with
  // the OpenSSL error when the handshake failed. Say EHLO again afterwards.
  SmtpReply StartTls();
  // AUTH PLAIN with an initial response.
  SmtpReply AuthPlain(const std::string& user, const std::string& password);
  // The negotiated protocol ("TLSv1.3"), "" without TLS.
  std::string TlsVersion() const;
  // DATA, then (on 354) the message with dot-stuffing and the final dot;
  // returns the reply to the final dot, or the refusal of DATA itself.
  SmtpReply Data(const std::string& message);
  // DATA, then `bytes` exactly as given (no dot-stuffing, no line-end
  // repair: bad-input tests send bare CR, bare LF and NUL on purpose), then
  // CRLF.CRLF; the reply to the final dot, or the refusal of DATA.
  SmtpReply DataRaw(const std::string& bytes);

 private:
  SmtpReply ReadReply();
  bool WriteAll(const std::string& bytes);
  // One read (plain or TLS) of at most `size` bytes, waiting up to timeout_ms;
  // <= 0 on timeout, error or end of stream.
  long ReadSome(char* data, std::size_t size, int timeout_ms);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  ssl_ctx_st* ssl_ctx_ = nullptr;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// The replies of one whole transaction.
struct Transaction {
  SmtpReply greeting, ehlo, mail;
  std::vector<SmtpReply> rcpts;
  SmtpReply data;  // the reply to the final dot (or to DATA when refused)
  int accepted_recipients() const;
};

// One session: EHLO, MAIL, every RCPT, DATA (only if a recipient was
// accepted), QUIT.
Transaction SendMail(uint16_t port, const std::string& sender, const std::vector<std::string>& recipients,
                     const std::string& message);

struct SessionOptions {
  bool ipv6 = false;       // connect to [::1]
  bool starttls = false;   // STARTTLS after the first EHLO, then EHLO again
  std::string auth_user;   // AUTH PLAIN when not empty
  std::string auth_password;
};

// The same with the session options; a failed STARTTLS or AUTH ends the
// session (its reply is in `ehlo`, code 0 / 5xx).
Transaction SendMail(uint16_t port, const SessionOptions& session, const std::string& sender,
                     const std::vector<std::string>& recipients, const std::string& message);

// An RFC 5322 message with Date, Message-ID, From, To, Subject, and `extra_headers`
// (each "Name: value") before the body; line ends CRLF.
std::string MakeMessage(const std::string& from, const std::string& to, const std::string& subject,
                        const std::string& body, const std::vector<std::string>& extra_headers = {});

}  // namespace hive::testing
